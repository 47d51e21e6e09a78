"""Dockerfile and compose.yaml, checked without a container engine (none runs here).

Parsed: the stages (Debian 12 bases, multi-stage, COPY --from naming a real stage), the final
stage's USER (not root), EXPOSE 8080 and the entry point; compose's services (capstan, redis,
demo), their ports, depends_on, and the config each mounts or names.
Run here, in the way each can be:
  - `scripts/install-deps.sh --build` and `--runtime`: for real (idempotent: on a machine that
    has the packages, a dpkg query each); the --build list is part of the full list CI installs;
  - the build line (cmake preset, the capstan target) in a temporary copy of the repository's
    tracked files less .dockerignore's, as `COPY . .` gives it, for real;
  - the install line (program, demo keys and database, config) in that copy with $OUT in a
    temporary folder, then the installed program checks the installed config and signs a
    token with the demo's new key;
  - `--runtime`'s packages against `ldd capstan`: every shared library the program loads
    belongs to one of them (dpkg -S), so the slim image can run it.
Not run: `useradd` (it would add a user to this machine; only that the command exists and the
uid is not 0), the base images' own contents, `docker build` and `docker compose up` themselves."""
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def instructions(text):
    """[(keyword, arguments)] with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def stages():
    """[{name, base, steps: [(keyword, args)]}] in order."""
    result = []
    for keyword, args in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            assert m, args
            result.append({"base": m.group(1), "name": m.group(2), "steps": []})
        else:
            assert result, f"{keyword} before FROM"
            result[-1]["steps"].append((keyword, args))
    return result


def runs(stage):
    return [args for keyword, args in stage["steps"] if keyword == "RUN"]


def test_dockerfile_is_multi_stage_debian_12_and_runs_unprivileged():
    all_stages = stages()
    assert len(all_stages) >= 2
    names = [s["name"] for s in all_stages]
    for s in all_stages:
        assert re.fullmatch(r"debian:12(-slim)?", s["base"]), s["base"]
        for keyword, args in s["steps"]:
            m = re.match(r"--from=(\S+)", args)
            if keyword == "COPY" and m:
                assert m.group(1) in names[:names.index(s["name"])], f"COPY --from={m.group(1)}: no earlier stage"
    final = all_stages[-1]
    users = [args for keyword, args in final["steps"] if keyword == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:"), users
    assert ("EXPOSE", "8080") in final["steps"]
    entry = [args for keyword, args in final["steps"] if keyword == "ENTRYPOINT"]
    assert entry == ['["/usr/local/bin/capstan"]']
    # The build's tools stay in the build stage: the final stage installs the runtime list only.
    assert runs(final)[0].startswith("/tmp/install-deps.sh --runtime")
    useradd = next(r for r in runs(final) if r.startswith("useradd"))
    assert shutil.which("useradd") and re.search(r"--uid (\d+)", useradd).group(1) != "0"


def package_list(mode):
    """The packages scripts/install-deps.sh installs in `mode`, read from its arrays."""
    text = (REPO_ROOT / "scripts" / "install-deps.sh").read_text()
    arrays = {name: body for name, body in re.findall(r"^(\w+)=\(\n(.*?)^\)", text, re.M | re.S)}
    words = lambda body: [w for line in body.splitlines() for w in line.split("#")[0].split()]
    if mode == "--build":
        return words(arrays["build_packages"])
    if mode == "--runtime":
        return words(arrays["runtime_packages"])
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["--build", "--runtime"])
def test_install_deps_modes_run_here(mode):
    script = REPO_ROOT / "scripts" / "install-deps.sh"
    assert os.access(script, os.X_OK)
    out = subprocess.run([str(script), mode], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0 and "install-deps: ok" in out.stdout, out.stdout + out.stderr
    for package in package_list(mode):
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        assert "install ok installed" in status.stdout, package


def test_runtime_packages_cover_every_library_capstan_loads(capstan_bin):
    ldd = subprocess.run(["ldd", str(capstan_bin)], capture_output=True, text=True, timeout=30, check=True).stdout
    libraries = re.findall(r"=> (/\S+)", ldd)
    assert libraries, ldd
    allowed = set(package_list("--runtime")) | {"libc6", "libgcc-s1"}  # in every Debian image
    missing = {}
    for lib in libraries:
        real = os.path.realpath(lib)
        owner = None
        for candidate in (lib, real, real.replace("/usr/lib/", "/lib/"), lib.replace("/lib/", "/usr/lib/", 1)):
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if out.returncode == 0:
                owner = out.stdout.split(":")[0]
                break
        if owner is None or owner not in allowed:
            missing[lib] = owner
    # A library's own dependencies come with its package; the program's direct ones must be listed.
    direct = subprocess.run(["objdump", "-p", str(capstan_bin)], capture_output=True, text=True).stdout
    needed = set(re.findall(r"NEEDED\s+(\S+)", direct))
    unlisted = {lib: owner for lib, owner in missing.items() if os.path.basename(lib) in needed}
    assert not unlisted, f"linked by capstan but not in install-deps.sh --runtime: {unlisted}"


def tracked_files():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    ignored = [line.strip().rstrip("/") for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    return [f for f in files if f and not any(f == i or f.startswith(i + "/") for i in ignored)]


def test_build_stage_run_lines_work_in_a_copy_of_the_context(tmp_path):
    build = stages()[0]
    lines = runs(build)
    assert lines[0] == "scripts/install-deps.sh --build"  # run above (test_install_deps_modes_run_here)
    context = tmp_path / "src"
    for f in tracked_files():
        target = context / f
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO_ROOT / f).is_file():  # a file deleted in the work tree but still tracked is skipped
            shutil.copy2(REPO_ROOT / f, target)
    out_dir = tmp_path / "out"
    env = dict(os.environ, OUT=str(out_dir))
    if shutil.which("ccache"):  # the launcher only, through CMake's own variable: the line stays as written
        env.setdefault("CMAKE_CXX_COMPILER_LAUNCHER", "ccache")
        env.setdefault("CCACHE_BASEDIR", str(context))
    for line in lines[1:]:
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=context, env=env,
                             capture_output=True, text=True, timeout=3000)
        assert out.returncode == 0, f"RUN {line}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    installed = out_dir / "usr" / "local" / "bin" / "capstan"
    assert os.access(installed, os.X_OK)
    config = out_dir / "etc" / "capstan" / "capstan.toml"
    check = subprocess.run([str(installed), "check", "-c", str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    demo = out_dir / "srv" / "demo"
    assert (demo / "var" / "demo.sqlite").is_file() and (demo / "public" / "index.html").is_file()
    token = subprocess.run([str(installed), "token", "-c", str(demo / "capstan.toml"), "--claim",
                            "username=alice@example.com"], capture_output=True, text=True, timeout=30)
    assert token.returncode == 0 and token.stdout.count(".") == 2, token.stderr
    # What the final stage copies from the build stage is what the build made.
    final_copies = [args for keyword, args in stages()[-1]["steps"] if keyword == "COPY" and "--from=" in args]
    assert final_copies == [f"--from={build['name']} /out/ /"]


def test_compose_services_ports_and_dependencies(capstan_bin):
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"capstan", "redis", "demo"}
    assert services["capstan"]["build"] == "." and services["demo"]["build"] == "."
    assert services["capstan"]["ports"] == ["8080:8080"]
    assert services["demo"]["ports"] == ["8081:8080"]
    assert services["capstan"]["depends_on"] == ["redis"]
    assert services["redis"]["image"].startswith("redis:")
    # The configs they start with exist in the image and pass `capstan check`.
    assert services["capstan"]["command"] == ["start", "-c", "/etc/capstan/capstan.toml"]
    check = subprocess.run([str(capstan_bin), "check", "-c", str(REPO_ROOT / "deploy" / "docker" / "capstan.toml")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    toml_text = (REPO_ROOT / "deploy" / "docker" / "capstan.toml").read_text()
    assert 'redis = "redis://redis:6379"' in toml_text  # the compose service's name
    assert 'listen = "0.0.0.0:8080"' in toml_text       # reachable through the published port
    demo_cmd = services["demo"]["command"]
    assert demo_cmd[:3] == ["start", "-c", "/srv/demo/capstan.toml"] and "0.0.0.0:8080" in demo_cmd
    assert shlex.join(demo_cmd)  # a plain list of strings
