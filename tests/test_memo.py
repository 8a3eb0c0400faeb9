"""course_utils.memo: both hash tables behave like dict, whatever the operations; memoize counts right.

The stateful tests drive a table and a dict (the model) with the same random sequence of
operations and check after every step that they agree, including with hash functions so
poor that most keys collide.
"""
import functools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from course_utils.memo import EMPTY, TOMBSTONE, CacheInfo, HashTable, OpenAddressingTable, make_key, memoize

TABLES = [HashTable, OpenAddressingTable]


def identity_hash(key):
    return key


def constant_hash(key):
    """Every key collides."""
    return 0


def three_buckets_hash(key):
    """Consistent with ==, but only three distinct values: long chains and clusters."""
    return hash(key) % 3


def huge_hash(key):
    """Hash values far beyond 64 bits whose low bits are all zero: every key lands in slot 0."""
    return hash(key) * 2**80


def negative_hash(key):
    return -abs(hash(key)) - 7


HASH_FNS = [hash, constant_hash, three_buckets_hash, huge_hash, negative_hash]

# Small pools so that keys repeat; 1 == 1.0 == True and 0 == 0.0 == -0.0 == False collide on purpose.
keys = st.one_of(st.integers(-20, 20), st.text(alphabet="abc", max_size=3), st.booleans(),
                 st.sampled_from([0.0, -0.0, 1.0, 2.5]), st.tuples(st.integers(0, 2), st.text(alphabet="ab", max_size=1)))
values = st.integers()


class TableMatchesDict(RuleBasedStateMachine):
    """Any sequence of operations gives the same answers on the table as on a dict."""

    table_class = HashTable

    def __init__(self):
        super().__init__()
        self.model = {}

    @initialize(capacity=st.integers(1, 9), load_factor=st.sampled_from([0.25, 0.5, 0.75, 0.9]),
                hash_fn=st.sampled_from(HASH_FNS))
    def make_table(self, capacity, load_factor, hash_fn):
        self.table = self.table_class(capacity=capacity, max_load_factor=load_factor, hash_fn=hash_fn)

    @rule(key=keys, value=values)
    def set_item(self, key, value):
        self.table[key] = value
        self.model[key] = value

    @rule(key=keys)
    def get_item(self, key):
        if key in self.model:
            assert self.table[key] == self.model[key]
        else:
            with pytest.raises(KeyError):
                self.table[key]

    @rule(key=keys)
    def get_with_default(self, key):
        assert self.table.get(key, "missing") == self.model.get(key, "missing")

    @rule(key=keys)
    def contains(self, key):
        assert (key in self.table) == (key in self.model)

    @rule(key=keys)
    def delete_any(self, key):
        if key in self.model:
            del self.table[key]
            del self.model[key]
        else:
            with pytest.raises(KeyError):
                del self.table[key]

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete_stored(self, data):
        key = data.draw(st.sampled_from(list(self.model)))
        del self.table[key]
        del self.model[key]

    @rule(key=keys, default=values)
    def pop(self, key, default):
        assert self.table.pop(key, default) == self.model.pop(key, default)

    @rule(key=keys, value=values)
    def setdefault(self, key, value):
        assert self.table.setdefault(key, value) == self.model.setdefault(key, value)

    @rule(new_capacity=st.integers(1, 64))
    def resize(self, new_capacity):
        if len(self.model) <= self.table.max_load_factor * new_capacity:
            self.table.resize(new_capacity)
            assert self.table.capacity == new_capacity
        else:
            with pytest.raises(ValueError, match="new_capacity"):
                self.table.resize(new_capacity)

    @precondition(lambda self: len(self.model) > 0)
    @rule()
    def popitem(self):
        key, value = self.table.popitem()
        assert self.model.pop(key) == value

    @rule()
    def clear_sometimes(self):
        if len(self.model) > 12:
            self.table.clear()
            self.model.clear()

    @invariant()
    def same_length(self):
        assert len(self.table) == len(self.model)

    @invariant()
    def iteration_visits_every_key_once(self):
        listed = list(self.table)
        assert len(listed) == len(self.model) == len(set(listed))
        assert all(key in self.model for key in listed)
        assert dict(self.table.items()) == self.model
        assert self.table == self.model

    @invariant()
    def load_factor_within_bounds(self):
        table = self.table
        assert table.load_factor == len(self.model) / table.capacity
        assert table.load_factor <= table.max_load_factor
        lengths = table.bucket_lengths()
        assert len(lengths) == table.capacity and sum(lengths) == len(self.model)
        probes = table.probe_lengths()
        assert len(probes) == len(self.model) and all(p >= 1 for p in probes)
        if isinstance(table, HashTable):  # a chain of length L costs 1 + 2 + ... + L in all
            assert sum(probes) == sum(n * (n + 1) // 2 for n in lengths)


class OpenAddressingMatchesDict(TableMatchesDict):
    table_class = OpenAddressingTable

    @invariant()
    def tombstones_count_towards_the_load(self):
        table = self.table
        assert table.tombstones == sum(1 for slot in table.layout() if slot is TOMBSTONE)
        assert len(table) + table.tombstones <= table.max_load_factor * table.capacity
        assert EMPTY in table.layout(), "a free slot must always end the probe sequences"

    @invariant()
    def probe_lengths_are_distances_from_home(self):
        # A key d slots past its home slot: the d slots in between hold keys or tombstones, never EMPTY.
        layout = self.table.layout()
        stored = [(i, key) for i, key in enumerate(layout) if key is not EMPTY and key is not TOMBSTONE]
        for (index, _), probes in zip(stored, self.table.probe_lengths()):
            between = [layout[(index - step) % len(layout)] for step in range(1, probes)]
            assert EMPTY not in between


run_settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestHashTableMatchesDict = TableMatchesDict.TestCase
TestHashTableMatchesDict.settings = run_settings
TestOpenAddressingMatchesDict = OpenAddressingMatchesDict.TestCase
TestOpenAddressingMatchesDict.settings = run_settings


# --- construction and bad input ---------------------------------------------------------------

@pytest.mark.parametrize("table_class", TABLES)
@pytest.mark.parametrize("capacity", [0, -3, 2.5, "8", True, None])
def test_bad_capacity_is_rejected(table_class, capacity):
    with pytest.raises(ValueError, match="capacity must be an integer >= 1"):
        table_class(capacity=capacity)


@pytest.mark.parametrize("table_class", TABLES)
@pytest.mark.parametrize("load_factor", [0, -0.5, math.nan, math.inf, 11.0, "0.5", True])
def test_bad_load_factor_is_rejected(table_class, load_factor):
    with pytest.raises(ValueError, match="max_load_factor must be"):
        table_class(max_load_factor=load_factor)


@pytest.mark.parametrize("load_factor", [0.95, 1.0, 2.0])
def test_open_addressing_needs_a_load_factor_below_one(load_factor):
    with pytest.raises(ValueError, match="max_load_factor"):
        OpenAddressingTable(max_load_factor=load_factor)
    assert HashTable(max_load_factor=load_factor).max_load_factor == load_factor  # chains may be longer than 1


@pytest.mark.parametrize("table_class", TABLES)
def test_hash_fn_must_be_callable_and_return_an_int(table_class):
    with pytest.raises(TypeError, match="hash_fn must be a callable"):
        table_class(hash_fn=42)
    table = table_class(hash_fn=lambda key: str(key))
    with pytest.raises(TypeError, match="hash_fn must return an int, got str"):
        table["a"] = 1


@pytest.mark.parametrize("table_class", TABLES)
@pytest.mark.parametrize("hash_fn", [hash, constant_hash])
@pytest.mark.parametrize("bad_key", [[1, 2], {"a": 1}, {3}, (1, [2])])
def test_unhashable_keys_fail_as_in_dict(table_class, hash_fn, bad_key):
    with pytest.raises(TypeError) as from_dict:
        {}[bad_key] = 1
    table = table_class(hash_fn=hash_fn)
    for operation in (lambda: table.__setitem__(bad_key, 1), lambda: table[bad_key],
                      lambda: bad_key in table, lambda: table.__delitem__(bad_key)):
        with pytest.raises(TypeError) as from_table:
            operation()
        assert str(from_table.value) == str(from_dict.value)  # e.g. "unhashable type: 'list'"


@pytest.mark.parametrize("table_class", TABLES)
def test_resize_rejects_bad_capacities(table_class):
    table = table_class(capacity=8, max_load_factor=0.5)
    table.update({i: i for i in range(4)})
    with pytest.raises(ValueError, match="new_capacity must be an integer >= 1"):
        table.resize(0)
    with pytest.raises(ValueError, match="new_capacity=7 cannot hold 4 keys .* at least 8"):
        table.resize(7)
    table.resize(8)
    assert dict(table) == {i: i for i in range(4)}


# --- where keys go ----------------------------------------------------------------------------

def test_chaining_places_key_k_in_bucket_k_mod_m():
    table = HashTable(capacity=8, max_load_factor=2.0, hash_fn=identity_hash)
    for key in [3, 11, 19, 4, 8]:
        table[key] = str(key)
    assert table.layout() == [[8], [], [], [3, 11, 19], [4], [], [], []]
    assert table.bucket_lengths() == [1, 0, 0, 3, 1, 0, 0, 0]
    assert sorted(table.probe_lengths()) == [1, 1, 1, 2, 3]
    table.resize(4)  # rehash: 3, 11, 19 -> 3, 3, 3; 4, 8 -> 0, 0, visited in old bucket order (8 first)
    assert table.layout() == [[8, 4], [], [], [3, 11, 19]]
    assert dict(table) == {3: "3", 11: "11", 19: "19", 4: "4", 8: "8"}


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(-1000, 1000), max_size=40), st.integers(1, 64))
def test_bucket_lengths_count_keys_by_hash_mod_capacity(int_keys, capacity):
    table = HashTable(capacity=capacity, max_load_factor=10.0, hash_fn=identity_hash)
    table.resize(max(capacity, math.ceil(len(int_keys) / 10)))
    for key in int_keys:
        table[key] = None
    counts = [0] * table.capacity
    for key in int_keys:
        counts[key % table.capacity] += 1
    assert table.bucket_lengths() == counts


@pytest.mark.parametrize("table_class", TABLES)
def test_capacity_doubles_when_the_load_factor_would_exceed_the_maximum(table_class):
    table = table_class(capacity=4, max_load_factor=0.5)
    capacities = []
    for key in range(9):
        table[key] = key
        capacities.append(table.capacity)
    # n keys need m >= n / 0.5 = 2n buckets, reached by doubling 4 -> 8 -> 16 -> 32
    assert capacities == [4, 4, 8, 8, 16, 16, 16, 16, 32]
    assert all(table[key] == key for key in range(9))


@pytest.mark.parametrize("table_class", TABLES)
def test_a_tiny_load_factor_doubles_several_times_at_once(table_class):
    table = table_class(capacity=1, max_load_factor=0.1)
    table["only"] = 1
    assert table.capacity == 16  # the smallest power-of-two multiple of 1 with 1 <= 0.1 * m


def test_colliding_keys_form_one_chain():
    table = HashTable(capacity=4, max_load_factor=10.0, hash_fn=constant_hash)
    for key in "abcde":
        table[key] = key.upper()
    assert table.bucket_lengths() == [5, 0, 0, 0]
    assert table.probe_lengths() == [1, 2, 3, 4, 5]
    del table["c"]
    assert table.layout() == [["a", "b", "d", "e"], [], [], []]
    assert [table[k] for k in "abde"] == ["A", "B", "D", "E"]


# --- open addressing: probing and tombstones -------------------------------------------------

def test_linear_probing_fills_the_next_free_slots_and_wraps_around():
    table = OpenAddressingTable(capacity=8, max_load_factor=0.9, hash_fn=identity_hash)
    for key in [6, 14, 22]:  # all have home slot 6
        table[key] = key
    assert table.layout() == [22, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, 6, 14]
    assert table.probe_lengths() == [3, 1, 2]  # in slot order: 22 is 2 past home (6 -> 7 -> 0)


def test_tombstones_keep_later_keys_reachable_and_are_reused():
    table = OpenAddressingTable(capacity=8, max_load_factor=0.9, hash_fn=constant_hash)
    for key in "abc":
        table[key] = key
    del table["b"]
    assert table.layout()[:4] == ["a", TOMBSTONE, "c", EMPTY]
    assert table["c"] == "c", "the search for c must step over b's tombstone"
    assert "b" not in table
    table["d"] = "d"  # the first reusable slot on d's walk is the tombstone
    assert table.layout()[:4] == ["a", "d", "c", EMPTY]
    assert table.tombstones == 0
    table["c"] = "C"  # an update must find c, not insert a second copy
    assert len(table) == 3 and table["c"] == "C"


def test_insert_delete_cycles_do_not_grow_the_table():
    table = OpenAddressingTable(capacity=8, max_load_factor=0.75)
    table["resident"] = 0
    for i in range(1000):
        table[f"key {i}"] = i
        del table[f"key {i}"]
        assert len(table) + table.tombstones <= 6
    assert table.capacity == 8 and dict(table) == {"resident": 0}


def test_rebuild_drops_tombstones_and_doubles_only_for_live_keys():
    # capacity 8 and max load factor 0.75: at most 6 slots may hold keys or tombstones.
    table = OpenAddressingTable(capacity=8, max_load_factor=0.75, hash_fn=identity_hash)
    for key in range(6):
        table[key] = key
    for key in range(4):
        del table[key]
    assert table.layout()[:6] == [TOMBSTONE] * 4 + [4, 5] and table.tombstones == 4
    table[14] = 14  # home slot 6 is empty: 2 live + 4 tombstones + 1 > 6 -> rebuild
    # 3 live keys fit in half the allowance (3 <= 6 / 2): same capacity, tombstones gone
    assert table.capacity == 8 and table.tombstones == 0
    assert table.layout() == [EMPTY] * 4 + [4, 5, 14, EMPTY]
    for key in range(3):
        table[key] = key
    assert table.capacity == 8 and len(table) == 6
    table[3] = 3  # 7 live keys > 6: rebuild, and 7 > 6 / 2: double
    assert table.capacity == 16 and table.tombstones == 0
    assert table.layout() == [0, 1, 2, 3, 4, 5] + [EMPTY] * 8 + [14, EMPTY]  # 14 mod 16 = 14


def test_rebuild_doubles_when_live_keys_fill_over_half_the_allowance():
    table = OpenAddressingTable(capacity=8, max_load_factor=0.75, hash_fn=identity_hash)
    for key in range(6):
        table[key] = key
    del table[0], table[1]
    table[6] = 6  # 4 live + 2 tombstones + 1 > 6: rebuild; 5 live keys > 6 / 2: double anyway
    assert table.capacity == 16 and table.tombstones == 0
    assert table.layout() == [EMPTY, EMPTY, 2, 3, 4, 5, 6] + [EMPTY] * 9


# --- the mapping protocol ---------------------------------------------------------------------

@pytest.mark.parametrize("table_class", TABLES)
def test_equal_keys_share_an_entry_as_in_dict(table_class):
    table, model = table_class(), {}
    for key, value in [(1, "int"), (1.0, "float"), (True, "bool"), (0, "zero"), (-0.0, "minus zero")]:
        table[key] = value
        model[key] = value
    assert model == {1: "bool", 0: "minus zero"}
    # the first key object stays (int 1, int 0), the last value wins
    assert sorted((repr(k), v) for k, v in table.items()) == sorted((repr(k), v) for k, v in model.items())


@pytest.mark.parametrize("table_class", TABLES)
def test_changing_size_during_iteration_raises(table_class):
    table = table_class()
    table.update(a=1, b=2, c=3)
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        for key in table:
            table[key + key] = 0
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        for key in table:
            del table[key]
    for key in table:  # replacing values is allowed, as in dict
        table[key] = 7
    assert set(table.values()) == {7}


@pytest.mark.parametrize("table_class", TABLES)
def test_repr_lists_the_items_and_survives_self_reference(table_class):
    table = table_class(capacity=4)
    table["x"] = [1, 2]
    assert repr(table) == f"{table_class.__name__}({{'x': [1, 2]}}, capacity=4)"
    table["me"] = table  # the order of the two keys depends on the string hash seed: check each part
    text = repr(table)
    assert text.startswith(f"{table_class.__name__}({{") and text.endswith("}, capacity=4)")
    assert "'me': ..." in text and "'x': [1, 2]" in text


@pytest.mark.parametrize("table_class", TABLES)
def test_clear_empties_but_keeps_the_capacity(table_class):
    table = table_class(capacity=4)
    table.update({i: i for i in range(20)})
    capacity = table.capacity
    table.clear()
    assert len(table) == 0 and list(table) == [] and table.capacity == capacity
    assert sum(table.bucket_lengths()) == 0
    table["again"] = 1
    assert dict(table) == {"again": 1}


@pytest.mark.parametrize("table_class", TABLES)
def test_tables_are_unhashable_like_dict(table_class):
    with pytest.raises(TypeError, match="unhashable"):
        hash(table_class())


# --- memoize ----------------------------------------------------------------------------------

def test_memoize_counts_hits_and_misses():
    calls = []

    @memoize
    def square(x):
        calls.append(x)
        return x * x

    assert [square(3), square(3), square(4), square(3)] == [9, 9, 16, 9]
    assert calls == [3, 4]
    assert square.cache_info() == CacheInfo(hits=2, misses=2, maxsize=None, currsize=2)
    square.cache_clear()
    assert square.cache_info() == CacheInfo(0, 0, None, 0)
    assert square(3) == 9 and calls == [3, 4, 3]


def test_memoized_fibonacci_misses_once_per_subproblem():
    @memoize
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    @functools.cache
    def fib_reference(n):
        return n if n < 2 else fib_reference(n - 1) + fib_reference(n - 2)

    for n in [2, 10, 90]:
        fib.cache_clear()
        fib_reference.cache_clear()
        assert fib(n) == fib_reference(n)
        info = fib.cache_info()
        assert info.misses == n + 1 and info.currsize == n + 1  # one miss for each of fib(0..n)
        assert tuple(info) == tuple(fib_reference.cache_info())


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([None, 0, 1]))))
def test_memoize_keeps_the_same_statistics_as_functools_cache(calls):
    def add(a, b=0):
        return a + (b or 0)

    ours, reference = memoize(add), functools.cache(add)
    for a, b in calls:
        if b is None:
            assert ours(a) == reference(a)
        else:
            assert ours(a, b=b) == reference(a, b=b)
    assert tuple(ours.cache_info()) == tuple(reference.cache_info())


def test_memoize_caches_none_and_not_exceptions():
    calls = []

    @memoize
    def f(x):
        calls.append(x)
        if x < 0:
            raise ValueError("negative")
        return None

    assert f(1) is None and f(1) is None and calls == [1]
    for _ in range(2):
        with pytest.raises(ValueError):
            f(-1)
    assert calls == [1, -1, -1]
    assert f.cache_info() == CacheInfo(hits=1, misses=3, maxsize=None, currsize=1)


def test_keyword_order_does_not_matter_but_position_does():
    assert make_key((1,), {"b": 2, "c": 3}) == make_key((1,), {"c": 3, "b": 2})
    assert make_key((1, 2), {}) != make_key((1,), {"b": 2})
    calls = []

    @memoize
    def f(a, b=0, c=0):
        calls.append((a, b, c))
        return a + b + c

    assert f(1, b=2, c=3) == f(1, c=3, b=2) == 6
    assert len(calls) == 1


def test_memoize_preserves_name_and_doc_and_rejects_bad_input():
    def documented(x):
        """Doubles x."""
        return 2 * x

    wrapped = memoize(documented)
    assert wrapped.__name__ == "documented" and wrapped.__doc__ == "Doubles x."
    assert wrapped.__wrapped__ is documented
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        wrapped([1, 2])
    with pytest.raises(TypeError, match="memoize needs a function, got int"):
        memoize(3)
