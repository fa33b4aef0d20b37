"""`release push` to SSH targets (`[user@]host:/path`): a throwaway OpenSSH server on a free port
of 127.0.0.1, as this test's own user, with a host key and an authorized key made here; its
sessions import this checkout (SetEnv PYTHONPATH), as a node runs its installed package. The
server tests' two releases go to two "nodes" (folders reached through it) and are checked byte
for byte there; a node whose staged copy is damaged, one that cannot be reached and one whose
folder is missing keep their release and are named."""

from __future__ import annotations

import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from publish.cli import main
from publish.release.push import push_release
from publish.release.ssh import SshOptions
from publish.release.store import ReleaseStore
from tests.release.test_push import assert_serves
from tests.server.helpers import Built

REPO = Path(__file__).resolve().parents[2]
SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    port: int
    ssh: str  # the ssh command line that reaches it (--ssh)

    def target(self, path: Path, user: str = "root", host: str = "127.0.0.1") -> str:
        return f"{user}@{host}:{path}" if user else f"{host}:{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """sshd on 127.0.0.1:<free port>, key login only, for this process's user."""
    home = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)], check=True
        )
    shutil.copy(home / "client_key.pub", home / "authorized_keys")
    port = free_port()
    host_key = (home / "host_key.pub").read_text().split()
    (home / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (home / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {home / 'host_key'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\n"
        f"PidFile {home / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nLogLevel ERROR\n"
        f"SetEnv PYTHONPATH={REPO}\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(home / "sshd_config")])
    ssh = shlex.join(
        [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(port),
            "-i",
            str(home / "client_key"),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={home / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=yes",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while subprocess.run([*shlex.split(ssh), "root@127.0.0.1", "true"]).returncode != 0:
            assert server.poll() is None, "sshd stopped"
            assert time.monotonic() < deadline, "sshd did not answer"
            time.sleep(0.2)
        yield Sshd(port, ssh)
    finally:
        server.terminate()
        server.wait(10)


def push(sshd: Sshd, *argv: object, python: str = sys.executable) -> int:
    options = ["--ssh", sshd.ssh, "--remote-python", python]
    return main(["release", "push", *options, *map(str, argv)])


def test_push_over_ssh_switches_every_node(
    built_releases: Built,
    sshd: Sshd,
    nodes: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = nodes
    first, second = built_releases.first, built_releases.second
    to = ["--to", sshd.target(a), "--to", sshd.target(b, user="")]
    assert push(sshd, "--tiles", built_releases.out, "--release", first, *to) == 0
    for node in nodes:
        assert_serves(node, built_releases, first)
    capsys.readouterr()

    assert push(sshd, "--tiles", built_releases.out, *to) == 0  # the source's current: second

    out = capsys.readouterr().out
    assert f"switched   root@127.0.0.1:{a}  copied " in out, out
    assert f"switched   127.0.0.1:{b}  copied " in out, out
    assert out.count(f"sha256 verified; it served {first}; serves {second}") == 2, out
    assert f"release {second} is current on 2 target(s)" in out
    for node in nodes:
        assert_serves(node, built_releases, second)
        assert ReleaseStore(node).ids() == [first, second]

    assert push(sshd, "--tiles", built_releases.out, *to) == 0  # again: nothing copied
    assert capsys.readouterr().out.count("already held, sha256 verified; it was already") == 2


def test_a_copy_damaged_on_the_node_switches_no_node(
    built_releases: Built,
    sshd: Sshd,
    nodes: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The node's Python is a wrapper that, after `release-node receive` into node-b, flips one
    byte of the staged public archive (same size: only the sha256 can tell), as a failing disk
    would."""
    a, b = nodes
    first, second = built_releases.first, built_releases.second
    report = push_release(
        built_releases.out,
        [sshd.target(a), sshd.target(b)],
        release_id=first,
        ssh=SshOptions.from_text(sshd.ssh, sys.executable),
    )
    assert [o.status for o in report.outcomes] == ["switched", "switched"], report
    wrapper = tmp_path / "damaging-python"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import subprocess, sys\nfrom pathlib import Path\n"
        "status = subprocess.call([sys.executable, *sys.argv[1:]])\n"
        "args = sys.argv[1:]\n"
        f"if 'receive' in args and args[args.index('--tiles') + 1] == {str(b)!r}:\n"
        f"    staged = Path({str(b)!r}, '.staging', args[args.index('--release') + 1])\n"
        "    archive = staged / 'tiles' / 'public.pmtiles'\n"
        "    data = bytearray(archive.read_bytes())\n"
        "    data[len(data) // 2] ^= 0xFF\n"
        "    archive.write_bytes(bytes(data))\n"
        "sys.exit(status)\n"
    )
    wrapper.chmod(0o755)
    capsys.readouterr()

    to = ["--to", sshd.target(a), "--to", sshd.target(b)]
    assert push(sshd, "--tiles", built_releases.out, *to, python=str(wrapper)) == 2

    out, err = capsys.readouterr()
    failed = [line for line in out.splitlines() if line.startswith("failed")]
    held = [line for line in out.splitlines() if line.startswith("held back")]
    assert len(failed) == 1 and failed[0].startswith(f"failed     root@127.0.0.1:{b}  "), out
    assert "tiles/public.pmtiles: sha256 differs from the manifest" in failed[0]
    assert failed[0].endswith(f"serves {first}")
    assert len(held) == 1 and f"root@127.0.0.1:{a}" in held[0], out
    assert (
        err.strip()
        == f"error: release {second} failed on root@127.0.0.1:{b} (0 of 2 targets serve it)"
    )
    for node in nodes:  # both keep the old release, the new one nowhere, nothing staged
        assert_serves(node, built_releases, first)
        assert ReleaseStore(node).ids() == [first]


def test_switch_each_over_ssh_names_the_nodes_that_failed(
    built_releases: Built,
    sshd: Sshd,
    nodes: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The ssh command and the node's Python from the environment this time."""
    a, b = nodes
    (b / ".staging").write_text("a file where the staging folder goes")  # b cannot stage
    missing = a.parent / "no-such-node"
    unreachable = sshd.target(a, host="127.0.0.2")  # nothing listens there
    to = ["--to", sshd.target(a), "--to", sshd.target(b), "--to", sshd.target(missing)]
    to += ["--to", unreachable]
    monkeypatch.setenv("PUBLISH_SSH_COMMAND", sshd.ssh)
    monkeypatch.setenv("PUBLISH_REMOTE_PYTHON", sys.executable)

    assert main(["release", "push", "--tiles", str(built_releases.out), "--switch-each", *to]) == 2

    out, err = capsys.readouterr()
    assert f"switched   root@127.0.0.1:{a}  copied " in out, out
    assert (
        f"failed     root@127.0.0.1:{missing}  {missing} does not exist; serves no release" in out
    )
    assert f"failed     root@127.0.0.1:{b}  [Errno 20] Not a directory: '{b}/.staging/" in out
    assert f"failed     {unreachable}  ssh exited 255: " in out and "Connection refused" in out
    assert out.rstrip().endswith("its current release could not be read"), out
    failed = f"root@127.0.0.1:{b}, root@127.0.0.1:{missing}, {unreachable}"
    assert f"failed on {failed} (1 of 4 targets serve it)" in err
    assert_serves(a, built_releases, built_releases.second)
    assert list(b.iterdir()) == [b / ".staging"]  # nothing else written
    assert not missing.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "127.0.0.1:tiles"], "target '127.0.0.1:tiles': the path on the node must be "),
        (["--to", "root@:/srv/tiles"], "target 'root@:/srv/tiles' is not a folder or an SSH"),
        (["--to=-oProxyCommand=x:/srv"], "target '-oProxyCommand=x:/srv' is not a folder or"),
        (["--to", "n1:/srv/tiles", "--to", "n1:/srv/tiles/"], "target n1:/srv/tiles/ is named"),
        (["--ssh", "ssh -o 'unclosed", "--to", "n1:/srv"], '--ssh "ssh -o \'unclosed": No '),
    ],
)
def test_bad_ssh_targets_are_named(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["release", "push", "--tiles", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
