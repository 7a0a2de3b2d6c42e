"""A whole Pedersen ceremony in the test group, for the tests of this folder."""

from __future__ import annotations

from dataclasses import dataclass

from gmpy2 import mpz

from keys import threshold as T
from keys.group import Group
from keys.pki import SignedMsg


@dataclass(frozen=True)
class Ceremony:
    seeds: list[str]
    certs: list[SignedMsg]
    polynomials: list[T.Polynomial]
    vinputs: list[T.Vinput]
    voutputs: list[T.Voutput]
    params: T.ThresholdParameters
    dkeys: list[str]

    def private_keys(self, group: Group) -> list[mpz]:
        return [T.decryption_key(group, s, d) for s, d in zip(self.seeds, self.dkeys, strict=True)]


def run_ceremony(group: Group, n: int, threshold: int) -> Ceremony:
    pairs = [T.generate_cert(group) for _ in range(n)]
    seeds = [s for s, _ in pairs]
    certs = [c for _, c in pairs]
    for c in certs:
        T.check_cert(group, c)
    T.check_certs(group, certs)
    polys = [T.make_polynomial(group, certs, s, threshold) for s in seeds]
    for i, p in enumerate(polys, start=1):
        T.check_polynomial(group, certs, i, p)
    vinputs = T.make_vinputs(group, certs, polys)
    voutputs = [T.make_voutput(group, certs, s, v) for s, v in zip(seeds, vinputs, strict=True)]
    for j, vo in enumerate(voutputs, start=1):
        T.check_voutput(group, certs, j, polys, vo)
    params, dkeys = T.make_threshold_parameters(group, certs, polys, voutputs)
    return Ceremony(seeds, certs, polys, vinputs, voutputs, params, dkeys)
