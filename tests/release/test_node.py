"""The node's side of a push (`python -m publish release-node STEP`): a tar stream unpacked into
staging only, and steps asked for without a release named."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from publish.cli import main
from publish.errors import ReleaseError
from publish.release.node import LocalTarget

RID = "20261128T140102Z-1a2b3c4d"


def tar_of(members: dict[str, bytes]) -> io.BytesIO:
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    stream.seek(0)
    return stream


def test_receive_unpacks_into_staging_only(tmp_path: Path) -> None:
    node = LocalTarget(tmp_path)
    with pytest.raises(ReleaseError, match=r"\.staging/.* is missing \(prepare the push first\)"):
        node.receive_tar(RID, tar_of({"a.txt": b"a"}))
    assert node.prepare(RID, 10).before is None  # a new node: staging made
    node.receive_tar(RID, tar_of({"tiles/a.txt": b"a"}))
    assert (tmp_path / ".staging" / RID / "tiles" / "a.txt").read_bytes() == b"a"
    with pytest.raises(ReleaseError, match=r"the copy sent to .* is unreadable: .*outside"):
        node.receive_tar(RID, tar_of({"../../escaped.txt": b"x"}))
    assert not (tmp_path.parent / "escaped.txt").exists()
    node.discard(RID)
    assert list(tmp_path.iterdir()) == []


def test_release_node_answers_in_json_and_names_bad_requests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["release-node", "status", "--tiles", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"current": None}
    assert main(["release-node", "prepare", "--tiles", str(tmp_path), "--release", RID]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "before": None,
        "held": False,
        "replace": False,
        "current": None,
    }
    assert main(["release-node", "verify", "--tiles", str(tmp_path)]) == 2
    assert "release-node verify needs --release ID (got None)" in capsys.readouterr().err
    assert main(["release-node", "verify", "--tiles", str(tmp_path), "--release", RID]) == 2
    assert "the copy does not verify: " in capsys.readouterr().err
