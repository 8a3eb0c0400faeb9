"""Hash tables and memoization, written so that every step can be read.

A hash table stores n (key, value) pairs in m buckets. A hash function turns a key into an
integer h(key); the key lives in bucket h(key) mod m. With a good hash the keys spread
evenly, a bucket holds about alpha = n / m keys (the *load factor*), and a lookup compares
the key with O(1 + alpha) others, whatever n is. Keeping alpha below a maximum by doubling m
(and rehashing every key) keeps lookups O(1); the doublings cost O(n) in all, O(1) per insert.

Two designs of the same mapping, both `collections.abc.MutableMapping`s, so they behave
like `dict` (get, pop, setdefault, update, ==, `in`, iteration, len):

    HashTable            separate chaining: each bucket is a list of entries (a chain).
    OpenAddressingTable  one entry per slot; a key that finds its home slot taken walks to the
                         next slot (linear probing); a deleted entry leaves a tombstone.

    table = HashTable(capacity=8, max_load_factor=0.75)
    table["mnist"] = 60_000
    table.load_factor       # n / m
    table.bucket_lengths()  # keys per bucket (m ints)
    table.probe_lengths()   # comparisons needed to find each stored key
    table.layout()          # what each bucket holds
    table.resize(64)        # rehash into 64 buckets (it also grows by itself)

and `memoize(fn)`, a decorator that caches fn's results in a HashTable, with `cache_info()`
and `cache_clear()` like functools.cache.

`hash_fn` replaces Python's `hash` for placing keys (for example a deliberately poor hash, to
see collisions). Keys must still be hashable by Python, as `dict` requires:
an unhashable key raises `TypeError: unhashable type: 'list'`. Equal keys must get equal
`hash_fn` values; a key is found again when `stored_hash == h and (stored_key is key or
stored_key == key)`, the same rule `dict` uses.
"""
from __future__ import annotations

import functools
import math
import operator
import reprlib
from collections import namedtuple
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

# Chains of about 10 keys are already slow; a larger maximum load factor is almost surely a typo.
MAX_CHAINING_LOAD_FACTOR = 10.0
# Linear probing needs a free slot to end every search, so its load factor stays below 1.
MAX_PROBING_LOAD_FACTOR = 0.95


class _Entry:
    """One stored pair, with its full hash kept so that resizing need not hash the key again."""

    __slots__ = ("hash", "key", "value")

    def __init__(self, hash_value: int, key: Any, value: Any) -> None:
        self.hash = hash_value
        self.key = key
        self.value = value

    def __repr__(self) -> str:
        return f"_Entry(hash={self.hash!r}, key={self.key!r}, value={self.value!r})"

    def matches(self, hash_value: int, key: Any) -> bool:
        """Is this the entry of `key`? Compare the cheap hash first, then identity, then ==."""
        return self.hash == hash_value and (self.key is key or self.key == key)


class _Marker:
    """A named placeholder in an open-addressing slot (see EMPTY and TOMBSTONE)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


# What OpenAddressingTable.layout() shows in a free slot, and the marker a deletion leaves:
# a tombstone says "a key was here: keep probing past me".
EMPTY = _Marker("empty")
TOMBSTONE = _Marker("tombstone")


def _check_capacity(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1 (a number of buckets), got {value!r}")
    return value


def _check_load_factor(value: Any, upper: float, inclusive: bool) -> float:
    allowed = f"a number with 0 < max_load_factor {'<=' if inclusive else '<'} {upper:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"max_load_factor must be {allowed}, got {value!r}")
    too_big = value > upper if inclusive else value >= upper
    if not math.isfinite(value) or value <= 0 or too_big:
        raise ValueError(f"max_load_factor must be {allowed}, got {value!r}")
    return float(value)


class _HashTableBase(MutableMapping):
    """What both designs share: validation, hashing, growth policy, load factor, repr."""

    _max_allowed_load_factor = MAX_CHAINING_LOAD_FACTOR
    _max_load_factor_inclusive = True

    def __init__(self, capacity: int = 8, max_load_factor: float = 0.75,
                 hash_fn: Callable[[Any], int] = hash) -> None:
        self._capacity = _check_capacity("capacity", capacity)
        self._max_load_factor = _check_load_factor(max_load_factor, self._max_allowed_load_factor,
                                                   self._max_load_factor_inclusive)
        if not callable(hash_fn):
            raise TypeError(f"hash_fn must be a callable key -> int, such as hash, got {type(hash_fn).__name__}")
        self._hash_fn = hash_fn
        self._size = 0
        self._version = 0  # changes whenever keys are added or removed, to catch changes during iteration
        self._make_empty(self._capacity)

    # --- what each design defines ------------------------------------------------------------
    def _make_empty(self, capacity: int) -> None:
        raise NotImplementedError

    def _entries(self) -> Iterator[_Entry]:
        raise NotImplementedError

    def _place(self, entry: _Entry) -> None:
        """Put an entry whose key is not in the table yet; no growth check."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """Number of buckets (chaining) or slots (open addressing), m."""
        return self._capacity

    @property
    def max_load_factor(self) -> float:
        """The table doubles its capacity before n / m would exceed this."""
        return self._max_load_factor

    @property
    def hash_fn(self) -> Callable[[Any], int]:
        return self._hash_fn

    @property
    def load_factor(self) -> float:
        """alpha = n / m: stored keys per bucket (or per slot)."""
        return self._size / self._capacity

    def _hash(self, key: Any) -> int:
        """The integer that places `key`. Python's hash() runs first, so unhashable keys fail like in dict."""
        python_hash = hash(key)  # TypeError: unhashable type: 'list'
        if self._hash_fn is hash:
            return python_hash
        value = self._hash_fn(key)
        try:
            return operator.index(value)
        except TypeError:
            raise TypeError(f"hash_fn must return an int, got {type(value).__name__} for key {key!r}") from None

    def _fits(self, n_used: int, capacity: int) -> bool:
        return n_used <= self._max_load_factor * capacity

    def _capacity_for(self, n_used: int) -> int:
        """The current capacity, doubled as often as needed to hold n_used entries."""
        capacity = self._capacity
        while not self._fits(n_used, capacity):
            capacity *= 2
        return capacity

    def resize(self, new_capacity: int) -> None:
        """Rebuild the table with `new_capacity` buckets, placing every entry again (rehashing).

        The stored full hashes are reused; only `hash mod new_capacity` changes. Raises
        ValueError if the current keys would not fit under the maximum load factor.
        """
        _check_capacity("new_capacity", new_capacity)
        if not self._fits(self._size, new_capacity):
            needed = math.ceil(self._size / self._max_load_factor)
            raise ValueError(f"new_capacity={new_capacity} cannot hold {self._size} keys with "
                             f"max_load_factor={self._max_load_factor:g}; it must be at least {needed}")
        entries = list(self._entries())
        self._capacity = new_capacity
        self._make_empty(new_capacity)
        for entry in entries:
            self._place(entry)
        self._version += 1

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        version = self._version
        for entry in self._entries():
            yield entry.key
            if self._version != version:
                raise RuntimeError(f"{type(self).__name__} changed size during iteration")

    def clear(self) -> None:
        """Remove every key; the capacity stays."""
        self._make_empty(self._capacity)
        self._size = 0
        self._version += 1

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        items = ", ".join(f"{entry.key!r}: {entry.value!r}" for entry in self._entries())
        return f"{type(self).__name__}({{{items}}}, capacity={self._capacity})"


class HashTable(_HashTableBase):
    """A mapping with separate chaining: bucket i holds the list of entries whose hash mod m is i.

    capacity: initial number of buckets m (an int >= 1).
    max_load_factor: 0 < alpha_max <= 10; before an insert would make n / m exceed it, m doubles.
    hash_fn: key -> int used to place keys (default: Python's hash).

    A lookup computes i = hash(key) mod m and compares `key` with the entries of chain i, so it
    costs 1 + (length of that chain) steps at worst. Under uniform hashing a chain holds alpha keys
    on average and a successful search compares about 1 + alpha / 2 keys.
    """

    def _make_empty(self, capacity: int) -> None:
        self._buckets: list[list[_Entry]] = [[] for _ in range(capacity)]

    def _entries(self) -> Iterator[_Entry]:
        for bucket in self._buckets:
            yield from bucket

    def _place(self, entry: _Entry) -> None:
        self._buckets[entry.hash % self._capacity].append(entry)

    def _find(self, key: Any, hash_value: int) -> _Entry | None:
        for entry in self._buckets[hash_value % self._capacity]:
            if entry.matches(hash_value, key):
                return entry
        return None

    def __getitem__(self, key: Any) -> Any:
        entry = self._find(key, self._hash(key))
        if entry is None:
            raise KeyError(key)
        return entry.value

    def __setitem__(self, key: Any, value: Any) -> None:
        hash_value = self._hash(key)
        entry = self._find(key, hash_value)
        if entry is not None:  # existing key: replace the value, keep the key object (as dict does)
            entry.value = value
            return
        new_capacity = self._capacity_for(self._size + 1)
        if new_capacity != self._capacity:
            self.resize(new_capacity)
        self._place(_Entry(hash_value, key, value))
        self._size += 1
        self._version += 1

    def __delitem__(self, key: Any) -> None:
        hash_value = self._hash(key)
        bucket = self._buckets[hash_value % self._capacity]
        for position, entry in enumerate(bucket):
            if entry.matches(hash_value, key):
                del bucket[position]
                self._size -= 1
                self._version += 1
                return
        raise KeyError(key)

    def bucket_lengths(self) -> list[int]:
        """Length of each chain, a list of m ints that sums to n."""
        return [len(bucket) for bucket in self._buckets]

    def layout(self) -> list[list[Any]]:
        """The keys of each chain, bucket by bucket: m lists."""
        return [[entry.key for entry in bucket] for bucket in self._buckets]

    def probe_lengths(self) -> list[int]:
        """For each stored key, in iteration order, how many entries a lookup compares to find it.

        In a chain of length L the keys cost 1, 2, ..., L; the mean over all keys is the cost of
        an average successful search.
        """
        return [position + 1 for bucket in self._buckets for position in range(len(bucket))]


class OpenAddressingTable(_HashTableBase):
    """A mapping with open addressing and linear probing: one entry per slot, no chains.

    capacity: initial number of slots m (an int >= 1).
    max_load_factor: 0 < alpha_max < 0.95 (strictly below 1: a search ends at an empty slot,
        so there must always be one).
    hash_fn: key -> int used to place keys (default: Python's hash).

    Key k starts at its home slot hash(k) mod m and walks to m + 1, m + 2, ... (wrapping around)
    until it finds itself or an empty slot. Deleting cannot simply empty a slot, because that
    would cut the walk of every key stored further along: it leaves a tombstone, which searches
    step over and inserts may reuse. Tombstones take slots like keys do, so the rule that keeps
    searches short counts them: an insert that would make (n + tombstones) / m exceed the maximum
    rebuilds the table, which drops every tombstone, doubling m only when live keys fill more than
    half of the allowance (otherwise insert-delete cycles would grow the table forever).
    Under uniform hashing a successful search probes about (1 + 1 / (1 - alpha)) / 2 slots
    (Knuth's analysis of linear probing).
    """

    _max_allowed_load_factor = MAX_PROBING_LOAD_FACTOR
    _max_load_factor_inclusive = False

    def _make_empty(self, capacity: int) -> None:
        self._slots: list[_Entry | _Marker | None] = [None] * capacity
        self._tombstones = 0

    @property
    def tombstones(self) -> int:
        """Number of slots marked deleted since the last rebuild."""
        return self._tombstones

    def _entries(self) -> Iterator[_Entry]:
        for slot in self._slots:
            if isinstance(slot, _Entry):
                yield slot

    def _probe(self, key: Any, hash_value: int) -> tuple[int | None, int | None]:
        """Walk from the home slot. Returns (slot of key or None, first slot an insert could use)."""
        index = hash_value % self._capacity
        first_free = None
        for _ in range(self._capacity):
            slot = self._slots[index]
            if slot is None:  # an empty slot ends the search: the key is not stored
                return None, index if first_free is None else first_free
            if slot is TOMBSTONE:
                if first_free is None:
                    first_free = index
            elif slot.matches(hash_value, key):
                return index, index
            index = (index + 1) % self._capacity
        return None, first_free  # every slot visited: only possible when no slot is empty

    def _place(self, entry: _Entry) -> None:
        index = entry.hash % self._capacity
        while self._slots[index] is not None:
            index = (index + 1) % self._capacity
        self._slots[index] = entry

    def __getitem__(self, key: Any) -> Any:
        index, _ = self._probe(key, self._hash(key))
        if index is None:
            raise KeyError(key)
        return self._slots[index].value

    def __setitem__(self, key: Any, value: Any) -> None:
        hash_value = self._hash(key)
        index, free = self._probe(key, hash_value)
        if index is not None:
            self._slots[index].value = value
            return
        reuses_tombstone = free is not None and self._slots[free] is TOMBSTONE
        if not reuses_tombstone and not self._fits(self._size + self._tombstones + 1, self._capacity):
            self._rebuild_for_one_more()
            _, free = self._probe(key, hash_value)
        if self._slots[free] is TOMBSTONE:
            self._tombstones -= 1
        self._slots[free] = _Entry(hash_value, key, value)
        self._size += 1
        self._version += 1

    def _rebuild_for_one_more(self) -> None:
        """Drop the tombstones; double the capacity if live keys fill over half the allowance."""
        capacity = self._capacity
        if not self._fits(2 * (self._size + 1), capacity):
            capacity *= 2
        while not self._fits(self._size + 1, capacity):
            capacity *= 2
        self.resize(capacity)

    def __delitem__(self, key: Any) -> None:
        index, _ = self._probe(key, self._hash(key))
        if index is None:
            raise KeyError(key)
        self._slots[index] = TOMBSTONE
        self._tombstones += 1
        self._size -= 1
        self._version += 1

    def bucket_lengths(self) -> list[int]:
        """Keys in each slot: m ints, each 0 or 1 (a tombstone counts 0), summing to n."""
        return [1 if isinstance(slot, _Entry) else 0 for slot in self._slots]

    def layout(self) -> list[Any]:
        """What each of the m slots holds: its key, EMPTY or TOMBSTONE."""
        return [slot.key if isinstance(slot, _Entry) else EMPTY if slot is None else TOMBSTONE
                for slot in self._slots]

    def probe_lengths(self) -> list[int]:
        """For each stored key, in iteration order, how many slots a lookup visits to find it.

        A key stored d slots past its home slot costs d + 1; long runs of occupied slots
        (clusters) make these grow.
        """
        return [(index - slot.hash) % self._capacity + 1
                for index, slot in enumerate(self._slots) if isinstance(slot, _Entry)]


# --- memoization -----------------------------------------------------------------------------

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
CacheInfo.__doc__ = "Cache statistics, with the fields of functools' CacheInfo (maxsize is None: unbounded)."

_KEYWORDS_MARK = object()  # separates positional from keyword arguments inside a cache key
_MISSING = object()


def make_key(args: tuple, kwargs: dict) -> tuple:
    """The cache key of one call: the positional arguments, then the keyword arguments sorted by name.

    f(1, b=2, c=3) and f(1, c=3, b=2) share a key; f(1, 2) and f(1, b=2) do not (as in functools).
    Equal arguments give equal keys, so 1, 1.0 and True hit the same entry (functools' typed=False).
    """
    if not kwargs:
        return args
    return args + (_KEYWORDS_MARK,) + tuple(sorted(kwargs.items()))


def memoize(fn: Callable) -> Callable:
    """Decorator: remember fn's result for each distinct call, in a HashTable (an unbounded cache).

    The wrapper looks the arguments up first: a hit returns the stored result without calling fn,
    a miss calls fn and stores the result. Recursive calls through the decorated name are
    memoized too. `wrapper.cache_info()` returns CacheInfo(hits, misses, maxsize=None, currsize),
    `wrapper.cache_clear()` empties the cache and resets the counts, `wrapper.cache` is the table.
    Arguments must be hashable (TypeError otherwise); exceptions are not cached.
    """
    if not callable(fn):
        raise TypeError(f"memoize needs a function, got {type(fn).__name__}")
    cache = HashTable()
    hits = misses = 0

    @functools.wraps(fn)
    def memoized(*args, **kwargs):
        nonlocal hits, misses
        key = make_key(args, kwargs)
        result = cache.get(key, _MISSING)
        if result is not _MISSING:
            hits += 1
            return result
        misses += 1
        result = fn(*args, **kwargs)
        cache[key] = result
        return result

    def cache_info() -> CacheInfo:
        return CacheInfo(hits, misses, None, len(cache))

    def cache_clear() -> None:
        nonlocal hits, misses
        cache.clear()
        hits = misses = 0

    memoized.cache_info = cache_info
    memoized.cache_clear = cache_clear
    memoized.cache = cache
    return memoized
