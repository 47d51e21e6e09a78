"""deploy/systemd/capstan.service: the sandboxing and reload options the deployment guide
promises, and `systemd-analyze verify` on it (skipped, with the reason printed, where
systemd-analyze is absent). verify checks that ExecStart is executable, so the unit is
verified with the path of the program built here in place of /usr/local/bin/capstan, the
only change; any warning it prints fails the test (it exits 0 on unknown keys)."""
import configparser
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT

UNIT = REPO_ROOT / "deploy" / "systemd" / "capstan.service"


def service_options():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string(UNIT.read_text())
    return parser


def test_unit_sandboxes_the_service_and_reloads_with_sighup():
    service = service_options()["Service"]
    assert service["DynamicUser"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["RuntimeDirectory"] == "capstan"
    assert service["RuntimeDirectoryMode"] == "0700"  # capstan refuses a runtime dir others can write
    assert int(service["LimitNOFILE"]) >= 65536
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["KillSignal"] == "SIGTERM"
    assert "--runtime-dir ${RUNTIME_DIRECTORY}" in service["ExecStart"]
    assert service["ExecStart"].startswith("/usr/local/bin/capstan start -c /etc/capstan/capstan.toml")


def test_systemd_analyze_verify(capstan_bin, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("SKIP reason: systemd-analyze is not installed on this machine")
        pytest.skip("systemd-analyze is not installed on this machine")
    text = UNIT.read_text()
    assert text.count("/usr/local/bin/capstan") == 2  # ExecStart and the install comment
    unit = tmp_path / "capstan.service"
    unit.write_text(text.replace("ExecStart=/usr/local/bin/capstan", f"ExecStart={capstan_bin}"))
    out = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    report = (out.stdout + out.stderr).strip()
    assert out.returncode == 0 and report == "", f"systemd-analyze verify:\n{report}"


def test_verify_would_catch_a_broken_unit(tmp_path):
    # The check above can fail: the same verify on a unit with a typo in a key.
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    unit = tmp_path / "broken.service"
    unit.write_text(UNIT.read_text().replace("ExecStart=/usr/local/bin/capstan", "ExecStart=/bin/true")
                    .replace("ProtectSystem=", "ProtectSystm="))
    out = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert "ProtectSystm" in out.stdout + out.stderr
