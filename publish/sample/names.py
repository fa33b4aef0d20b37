"""Plausible Chinese place names for the sample city (generated, not real gazetteer entries)."""

from __future__ import annotations

import numpy as np

_FIRST = list("大小上下东西南北新老黄白青红石金银龙凤马牛茶桐枫柳杨李张王刘陈周罗田")
_SECOND = list("溪坪岗峪湾塔桥坝岭冲垭坡湖潭河山林庄家园峰桥口洲台")
_VILLAGE_TAIL = ["村"]
_COMMUNITY_TAIL = ["社区"]


def unique_names(rng: np.random.Generator, count: int, tail: str, taken: set[str]) -> list[str]:
    """`count` two- or three-character names ending in `tail`, none already in `taken`."""
    names: list[str] = []
    while len(names) < count:
        length = 2 if rng.random() < 0.7 else 3
        chars = [str(rng.choice(_FIRST))] + [str(rng.choice(_SECOND)) for _ in range(length - 1)]
        name = "".join(chars) + tail
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def village_names(rng: np.random.Generator, count: int, community_share: float) -> list[str]:
    taken: set[str] = set()
    communities = round(count * community_share)
    return unique_names(rng, communities, _COMMUNITY_TAIL[0], taken) + unique_names(
        rng, count - communities, _VILLAGE_TAIL[0], taken
    )


def township_names(rng: np.random.Generator, kinds: list[str], taken: set[str]) -> list[str]:
    """kinds: '街道', '镇' or '乡' for each township."""
    return [unique_names(rng, 1, kind, taken)[0] for kind in kinds]
