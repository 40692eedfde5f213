"""Reaching a guest's console as a user does: a websocket to nova-lite-novncproxy, and
noVNC in Debian's headless Chromium (driven by its chromedriver through selenium)."""

from __future__ import annotations

import base64
import os
import time
from typing import Callable

import requests


def wait_console(api_url: str, token: str, server_id: str, done: Callable[[str], bool],
                 timeout: float) -> str:
    """The server's console log (os-getConsoleOutput) once ``done(log)``. Polled over the
    compute API at ``api_url`` (…/v2.1) with ``token``: starting a client for each poll
    would take a second of the CPU that the TCG guest boots with. Tests then read the
    log once more through openstackclient, as a user would."""
    deadline = time.monotonic() + timeout
    log = ""
    while time.monotonic() < deadline:
        resp = requests.post(f"{api_url}/servers/{server_id}/action", timeout=60,
                             json={"os-getConsoleOutput": {}},
                             headers={"X-Auth-Token": token})
        assert resp.status_code == 200, resp.text
        log = resp.json()["output"]
        if done(log):
            return log
        time.sleep(1)
    raise AssertionError(f"not on the console of {server_id} within {timeout:.0f} s:\n"
                         f"{log[-2000:]}")


def ws_open(base: str, path: str) -> tuple[int, bytes]:
    """Open a websocket to the proxy: (HTTP status, first frame's payload or b"")."""
    import socket
    import urllib.parse

    u = urllib.parse.urlsplit(base)
    sock = socket.create_connection((u.hostname, u.port), timeout=15)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
                      f"Origin: {base}\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            return status, b""
        while len(rest) < 2:
            rest += sock.recv(4096)
        length = rest[1] & 0x7F
        while len(rest) < 2 + length:
            rest += sock.recv(4096)
        return status, rest[2:2 + length]
    finally:
        sock.close()


def browser_screenshot(url: str, path: str) -> tuple[int, str]:
    """Open url in headless Chromium (Debian's, driven by its chromedriver); once noVNC
    says it is connected, screenshot the page: (distinct canvas colours, status)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    for exe in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        assert os.path.exists(exe), f"{exe} is missing: tools/setup-consoles --browser"
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1024,768"):
        opts.add_argument(flag)
    profile = os.path.join(os.path.dirname(path), "profile")
    opts.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        browser.set_page_load_timeout(60)
        browser.get(url)
        status = WebDriverWait(browser, 60, poll_frequency=0.5).until(
            lambda b: (lambda t: t if t.startswith(("Connected", "Disconnected",
                                                     "Failed")) else False)(
                b.find_element("id", "status").text))
        time.sleep(3)  # a few framebuffer updates
        colours = browser.execute_script("""
            const c = document.querySelector('canvas');
            if (!c || !c.width) return 0;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length && seen.size < 64; i += 4 * 7) {
                seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
            }
            return seen.size;""")
        browser.save_screenshot(path)
        return int(colours), status
    finally:
        browser.quit()
