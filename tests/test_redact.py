"""The one redaction point masks every remembered secret, with few secrets and with thousands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch import redact as r
from batch.fields import is_placeholder

secret_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=r.MIN_LENGTH,
                      max_size=30).filter(lambda s: not is_placeholder(s)).filter(
    lambda s: s.strip() == s and s)


@pytest.mark.parametrize("count", [1, r.FEW + 1, 2_000])
def test_every_secret_is_masked_wherever_it_stands(count: int) -> None:
    r.forget_all()
    secrets = [f"Sec{i:05d}-x9Q" for i in range(count)]
    for secret in secrets:
        r.remember(secret)
    text = f"<td>{secrets[0]}</td> id=\"w-{secrets[-1]}\" plain{secrets[count // 2]}tail"
    out = r.redact(text)
    assert not any(secret in out for secret in secrets)
    assert out.count(r.MASK) == 3
    assert out.startswith("<td>") and out.endswith("tail")


def test_a_secret_inside_a_longer_secret_is_masked_as_the_longer_one() -> None:
    r.forget_all()
    for i in range(r.FEW + 1):
        r.remember(f"filler-{i:04d}")
    r.remember("abcd1234")
    r.remember("xxabcd1234yy")
    assert r.redact("[xxabcd1234yy] [abcd1234]") == f"[{r.MASK}] [{r.MASK}]"


@given(secrets=st.lists(secret_text, min_size=1, max_size=40, unique=True), noise=st.text(max_size=40))
def test_redacted_text_contains_no_secret(secrets: list[str], noise: str) -> None:
    r.forget_all()
    for secret in secrets:
        r.remember(secret)
    text = noise.join(secrets) + noise
    out = r.redact(text)
    assert not any(secret in out for secret in secrets if r.MASK not in secret)


def test_a_placeholder_is_not_hunted_for_in_every_text() -> None:
    r.forget_all()
    r.remember("-")
    r.remember("nvt")
    assert r.redact("4-wekelijks, nvt") == "4-wekelijks, nvt"
