"""The per-address token buckets stay bounded however many addresses come by."""
from comongus.limits import AddressBuckets


def test_per_address_table_forgets_quiet_addresses_as_it_grows(monkeypatch):
    monkeypatch.setattr(AddressBuckets, "MAX_ADDRESSES", 100)
    posts = AddressBuckets(burst=1, rate_per_second=1e9)  # every bucket full again at once
    for i in range(1000):
        assert posts.take(f"10.0.{i // 256}.{i % 256}")
    assert len(posts._buckets) <= 101
