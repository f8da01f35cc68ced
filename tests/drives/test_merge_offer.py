"""A drive holding postcli pieces (``-fromFile/-toFile`` folders) is offered for a merge; through the
web API (the real DriveManager on real loop devices behind the page's routes, every answer checked
against the OpenAPI document) the merge runs, the drive is adopted, and the dataset is
byte-identical to a local init. Pieces of another identity, or with a file range missing, are
refused with the reason on the drive, and every file stays where it was."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.chain import DEVNET
from appliance.config import StateLayout
from appliance.drives.manager import DriveManager
from appliance.drives.model import DriveState
from appliance.events import EventBus
from appliance.node.identity import IdentityStore
from appliance.post.initializer import Initializer
from appliance.post.layout import file_name
from appliance.post.metadata import PostMetadata, read_metadata
from appliance.web.app import create_app
from appliance.web.drives import DrivesView, web_id
from tests.drives.conftest import Recorder
from tests.post.test_merge import N, postcli_subset
from tests.web.conftest import Api, make_world

pytestmark = pytest.mark.root
ATX = bytes([2]) * 32


def _image(loops, name: str, content: Path) -> Path:
    """An ext4 image made from ``content`` (mkfs.ext4 -d), as a PC would hand the drive over."""
    image = loops.image(name, 16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(content), str(image)], check=True)
    return image


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "lost+found" not in p.parts
    }


def _contents(loops, image: Path) -> dict[str, str]:
    """What the image holds now, read through a read-only mount of our own."""
    mnt = loops.folder / f"check-{image.stem}"
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-o", "ro,loop", str(image), str(mnt)], check=True)
    try:
        return _digests(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


async def test_merge_from_the_page(loops, tmp_path: Path, aiohttp_client: Any, wait_for) -> None:
    state = loops.state
    mine = IdentityStore(StateLayout(state).identities).generate("from-pc")
    meta = PostMetadata(mine.node_id, ATX, 256, 2, 1024)  # 8 files of 64 labels
    other = PostMetadata(bytes([9]) * 32, ATX, 256, 2, 1024)

    good, bad_id, gap = tmp_path / "good", tmp_path / "bad_id", tmp_path / "gap"
    postcli_subset(good / "pc1", meta, 0, 3)
    postcli_subset(good / "gpu" / "run2", meta, 4, 7)
    postcli_subset(bad_id / "pc1", meta, 0, 3)
    postcli_subset(bad_id / "pc2", other, 4, 7)
    postcli_subset(gap / "pc1", meta, 0, 3)
    postcli_subset(gap / "pc2", meta, 5, 7)
    images = {name: _image(loops, f"{name}.img", tmp_path / name) for name in ("good", "bad_id", "gap")}
    before = {name: _contents(loops, image) for name, image in images.items()}

    listener = Recorder()
    drives = DriveManager(
        StateLayout(state), EventBus(), listener, allowed_loop_dirs=[loops.folder], poll_interval=0.2
    )
    (tmp_path / "web").mkdir()
    world = make_world(tmp_path / "web")
    jobs = SimpleNamespace(snapshot=list, chain=DEVNET.replace({"scrypt_n": N}))
    world.services.drives = DrivesView(drives, jobs)  # type: ignore[arg-type]
    api = Api(await aiohttp_client(create_app(world.services, auth=world.auth)))
    await api.onboard_password()
    await drives.start()
    try:
        devs = {name: loops.attach(image) for name, image in images.items()}

        async def listed() -> dict[str, dict[str, Any]]:
            status, body = await api.call("GET", "/api/v1/drives")
            assert status == 200
            shots = {s.devnode: s for s in drives.snapshot()}
            return {
                name: next(d for d in body["drives"] if d["id"] == web_id(shots[dev].id))
                for name, dev in devs.items()
                if dev in shots
            }

        def offered() -> bool:
            shots = {s.devnode: s for s in drives.snapshot()}
            return all(shots.get(d) and shots[d].state is DriveState.OFFERED for d in devs.values())

        await wait_for(offered, "the three drives offered")
        shown = await listed()
        assert shown["good"]["merge_folders"] == ["gpu/run2", "pc1"], shown["good"]
        assert "2 partial PoST dataset(s)" in shown["good"]["reason"], shown["good"]
        assert "2 different identities" in shown["bad_id"]["reason"]

        status, body = await api.call("POST", "/api/v1/drives/nope/merge")
        assert status == 404, body
        for name in ("good", "bad_id", "gap"):
            status, body = await api.call("POST", f"/api/v1/drives/{shown[name]['id']}/merge")
            assert (status, body) == (200, {"status": "merging"})

        def settled() -> bool:
            shots = {s.devnode: s for s in drives.snapshot()}
            return (
                shots[devs["good"]].state is DriveState.ACTIVE
                and all(
                    "the merge was refused" in shots[devs[n]].reason
                    and shots[devs[n]].state is DriveState.OFFERED
                    for n in ("bad_id", "gap")
                )
            )

        await wait_for(settled, "the merge and the two refusals", timeout=60)
        shown = await listed()
        assert "NodeId differs" in shown["bad_id"]["reason"], shown["bad_id"]
        assert "files 4 of 8 are in no source" in shown["gap"]["reason"], shown["gap"]
        assert "No file was changed or lost" in shown["gap"]["reason"]
        assert shown["good"]["reason"] == "PoST data adopted" and shown["good"]["merge_folders"] == []
        status, body = await api.call("POST", f"/api/v1/drives/{shown['good']['id']}/merge")
        assert status == 409 and "no PoST pieces" in body["reason"]

        volume = listener.ready[-1]
        assert volume.has_data and volume.node_id == mine.node_id and volume.identity == "from-pc"
        local = tmp_path / "local"
        assert Initializer(local, meta, N).run().complete
        for index in range(meta.num_files):
            assert (volume.datadir / file_name(index)).read_bytes() == (local / file_name(index)).read_bytes()
        assert read_metadata(volume.datadir) == read_metadata(local)
    finally:
        await drives.stop()
        loops.cleanup()
    for name in ("bad_id", "gap"):  # refused: every byte where it was
        assert _contents(loops, images[name]) == before[name], name
