"""Where the WSGI applications find their configuration (as Nova's OS_NOVA_CONFIG_*)."""

from __future__ import annotations

from nova_lite import wsgi


def test_files_are_semicolon_separated_and_relative_to_the_dir():
    env = {"OS_NOVA_LITE_CONFIG_DIR": "/srv/nl",
           "OS_NOVA_LITE_CONFIG_FILES": "nova.conf; api.conf;/abs/db.conf"}
    assert wsgi.config_files(env) == ["/srv/nl/nova.conf", "/srv/nl/api.conf",
                                      "/abs/db.conf"]


def test_default_is_nova_conf_in_the_dir_when_it_exists(tmp_path):
    assert wsgi.config_files({"OS_NOVA_LITE_CONFIG_DIR": str(tmp_path)}) == []
    (tmp_path / "nova.conf").write_text("[DEFAULT]\n")
    assert wsgi.config_files({"OS_NOVA_LITE_CONFIG_DIR": str(tmp_path)}) == [
        str(tmp_path / "nova.conf")]
