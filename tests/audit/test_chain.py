from __future__ import annotations

from ketacare.audit import chain


def build(n: int) -> list[chain.Link]:
    links, prev = [], chain.GENESIS
    for seq in range(1, n + 1):
        payload = {"seq": seq, "action": "view", "new_values": {"x": seq}}
        h = chain.digest(prev, payload)
        links.append(chain.Link(seq=seq, prev_hash=prev, hash=h, payload=payload))
        prev = h
    return links


def test_an_untouched_chain_verifies() -> None:
    links = build(5)
    verdict = chain.verify(links, head_seq=5, head_hash=links[-1].hash)
    assert verdict.intact
    assert verdict.events == 5


def test_the_canonical_form_ignores_key_order() -> None:
    assert chain.digest("a", {"x": 1, "y": 2}) == chain.digest("a", {"y": 2, "x": 1})
    assert chain.digest("a", {"x": 1}) != chain.digest("b", {"x": 1})


def test_an_edited_event_is_found() -> None:
    links = build(4)
    links[1] = chain.Link(2, links[1].prev_hash, links[1].hash, {**links[1].payload, "action": "x"})
    verdict = chain.verify(links, 4, links[-1].hash)
    assert verdict.problems == ("event #2: contents do not match its hash (edited?)",)


def test_a_deleted_event_is_found() -> None:
    links = build(4)
    del links[1]
    problems = chain.verify(links, 4, links[-1].hash).problems
    assert problems == (
        "event #2..#2 missing (deleted?)",
        "event #3: link to the previous event is broken",
    )


def test_deleting_the_newest_event_is_caught_by_the_head() -> None:
    links = build(4)
    verdict = chain.verify(links[:-1], 4, links[-1].hash)
    assert not verdict.intact
    assert "chain ends at #3 but the head records #4" in verdict.problems[0]
