"""Issue 13, item 2: a free name written in (a person who is not a deputy) on the ballot the
server derives where "其他任何代表或者选民" may be elected (地方组织法 第二十八条), cast from the
kiosks, shuffled and decrypted ballot by ballot in RFC-3526-2048, credited and elected in the
count, and the archive verified by both verifiers (ours and belenios-tool)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from kiosk.choices import plaintext
from tally import messages as m
from tally.poll_counts import election_layout
from tally.poll_description import ElectionDescription, derive
from tally.rules.model import Organ, PostType
from tests.server.helpers import (
    add_scrutineers,
    checked_in,
    connect_kiosks,
    open_poll,
    run_ceremony,
    scrutineer_config,
    wait_state,
)
from tests.server.test_scrutineers import Scrutineer, belenios_verify

CANDIDATES = ("赵立国", "钱文静")


def _derived(organ: Organ, post: str) -> Any:
    desc = ElectionDescription(f"选举{post}", post, PostType.HEAD, organ, 1, CANDIDATES)
    return derive(desc, entry_id=organ.value, roster_max=3)


def _version(poll: dict[str, Any]) -> int:
    layout = election_layout(poll["template"])
    assert layout is not None
    return 2 if layout.name_chars else 1


@pytest.mark.belenios
@pytest.mark.slow
def test_a_free_name_is_cast_counted_elected_and_verified(
    tmp_path: Path, belenios_tool: str
) -> None:
    from fastapi.testclient import TestClient

    from tally.verify import verify_archive
    from voting.api.app import create_app

    data = tmp_path / "s"
    with (
        TestClient(create_app(scrutineer_config(data, "BELENIOS-2048"))) as client,
        ExitStack() as stack,
    ):
        s = checked_in(client, data, 3)
        add_scrutineers(s, 3, lambda i, t: Scrutineer(client, t), stack)
        assert run_ceremony(s, 2)["state"] == "done"
        mayor = _derived(Organ.GOVERNMENT, "镇长")
        chair = _derived(Organ.TOWNSHIP_CONGRESS, "镇人大主席")
        # the server keeps the ballot it is given: version 2 for the mayor, 1 for the chair
        for d, version in ((mayor, 2), (chair, 1)):
            body = {"title": d.title, "kind": d.kind, "template": d.template, "rules": d.rules}
            pid = s.post("/api/polls", body)["poll_id"]
            assert _version(s.get(f"/api/polls/{pid}")) == version
        # a name on the ballot of a post only deputies may hold is refused (第十八条)
        body = {"title": "x", "kind": "election", "template": mayor.template, "rules": chair.rules}
        r = client.post("/api/polls", json=body, headers=s.h())
        assert r.status_code == 422 and r.json()["detail"]["code"] == "bad_template", r.text
        kiosks = connect_kiosks(s, stack)
        body = {"title": mayor.title, "kind": "election", "template": mayor.template,
                "rules": mayor.rules}  # fmt: skip
        pid = open_poll(s, kiosks, body)
        assert s.get(f"/api/polls/{pid}")["group"] == "RFC-3526-2048"
        choices = [
            {"赵立国": "反对", "钱文静": "反对", "另选他人": ["欧阳建国"]},
            {"赵立国": "反对", "钱文静": "反对", "另选他人": ["欧阳建国"]},
            {"赵立国": "赞成", "钱文静": "反对"},
        ]
        for k, choice in zip(kiosks, choices, strict=True):
            rows = plaintext(k.elections[pid].questions, choice)  # the kiosk's own path
            assert isinstance(k.cast(pid, k.ballot(pid, rows)), m.Ack)
        s.post(f"/api/polls/{pid}/close", role="chair")
        poll = wait_state(s, pid, "tallied", tries=3000)
        items = {i["name"]: i for i in poll["outcome"]["items"]}
        # 2 of 3 deputies: a majority of all (地方组织法 第三十条), elected though not a deputy
        assert items["欧阳建国"]["write_in"] is True and items["欧阳建国"]["yes"] == 2
        assert items["欧阳建国"]["status"] == "elected"
        assert items["赵立国"]["status"] != "elected"
        s.post(f"/api/polls/{pid}/publish", role="chair")
        assert "欧阳建国" in client.get(f"/results/{pid}").text
    archive = data / "archives" / f"{pid}.bel"
    assert verify_archive(archive, workers=1).ok
    out = belenios_verify(belenios_tool, archive, tmp_path / "v" / "x.bel")
    assert out.returncode == 0, out.stderr + out.stdout
