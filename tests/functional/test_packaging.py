"""The package an operator installs holds everything its commands need.

The wheel is built from the files git tracks (as a fresh clone has them), installed into
a new virtual environment, and its nova-lite-manage migrates databases from there, far
from the source tree: alembic's env.py and the revisions must be inside the wheel.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

REPO = pathlib.Path(__file__).resolve().parents[2]


def _tracked_copy(dest: pathlib.Path) -> None:
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                           check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def test_wheel_installs_and_migrates(tmp_path):
    src = tmp_path / "src"
    _tracked_copy(src)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
                    str(src)], check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("nova_lite-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for schema in ("api", "main"):
        assert f"nova_lite/db/migrations/{schema}/env.py" in names
        assert any(n.startswith(f"nova_lite/db/migrations/{schema}/versions/")
                   and n.endswith(".py") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    py = venv / "bin" / "python"
    # Dependencies come from the test environment, appended after the new venv's own
    # site-packages (a plain path: the editable install's hook there is not run).
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig."
                              "get_paths()['purelib'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    pathlib.Path(purelib, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the test environment's own (editable) nova_lite is visible
    # through that path and would otherwise count as installed already.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", "--ignore-installed", str(wheel)], check=True,
                   capture_output=True, timeout=300)

    conf = tmp_path / "nova.conf"
    conf.write_text(f"[api_database]\nconnection = sqlite:///{tmp_path}/api.db\n"
                    f"[database]\nconnection = sqlite:///{tmp_path}/cell.db\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    manage = str(venv / "bin" / "nova-lite-manage")

    def run(*args: str) -> str:
        res = subprocess.run([manage, "--config-file", str(conf), *args], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, (args, res.stderr[-3000:])
        return res.stdout

    run("api_db", "sync")
    run("db", "sync")
    assert run("api_db", "version").strip()
    assert run("db", "version").strip()
    where = subprocess.run([str(py), "-c", "import nova_lite; print(nova_lite.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(purelib), where.stdout
