"""Cryptography of Renda: Belenios 2.0 groups, ElGamal, proofs, credentials, trustee keys."""
