"""The audit chain's append pattern in a dashboard's database (PostgreSQL via psycopg): each
append is one transaction that locks the chain's head row (SELECT ... FOR UPDATE), builds the
next entry on it with AuditChain.next, inserts it and moves the head. 4 concurrent appenders
(4 connections in threads) x 500 entries: nothing lost, seq contiguous, the chain verifies,
a checkpoint taken off-host catches a truncation, and a tampered row is named by its seq."""

import json
import threading

import psycopg
import pytest

import keycustody
from keycustody import AuditChain, AuditEntry
from orm_common import pg_url

SCOPE = "tenant:acme"
APPENDERS = 4
PER = 500
FIELDS = {"seq", "ts", "kid", "op", "names", "route", "actor", "tenant", "outcome", "prev", "mac"}

SCHEMA = """
DROP TABLE IF EXISTS audit_log, audit_head;
CREATE TABLE audit_head (scope text PRIMARY KEY, seq bigint NOT NULL, entry text);
CREATE TABLE audit_log (
  scope text NOT NULL, seq bigint NOT NULL, entry text NOT NULL, PRIMARY KEY (scope, seq));
"""


def append(conn, chain, event):
    """One append: transaction + lock on the head row; returns the new entry."""
    with conn.transaction():
        row = conn.execute(
            "SELECT entry FROM audit_head WHERE scope = %s FOR UPDATE", (chain.scope,)
        ).fetchone()
        prev = AuditEntry.parse(row[0]) if row[0] is not None else None
        e = chain.next(prev, event)
        text = e.to_json()
        conn.execute(
            "INSERT INTO audit_log (scope, seq, entry) VALUES (%s, %s, %s)", (chain.scope, e.seq, text)
        )
        conn.execute("UPDATE audit_head SET seq = %s, entry = %s WHERE scope = %s", (e.seq, text, chain.scope))
    return e


def load(conn, scope):
    rows = conn.execute("SELECT seq, entry FROM audit_log WHERE scope = %s ORDER BY seq", (scope,)).fetchall()
    return rows, [AuditEntry.parse(t) for _, t in rows]


@pytest.fixture
def db():
    url = pg_url()
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(SCHEMA)
        c.execute("INSERT INTO audit_head (scope, seq, entry) VALUES (%s, 0, NULL)", (SCOPE,))
    yield url
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS audit_log, audit_head")


def test_four_concurrent_appenders_lose_nothing_and_the_chain_verifies(db):
    kr = keycustody.Keyring.generate()
    errors = []

    def appender(i):
        try:
            chain = AuditChain(kr, SCOPE)  # each app instance has its own chain object
            with psycopg.connect(db, autocommit=True) as conn:
                for j in range(PER):
                    append(conn, chain, {"op": "secret.read", "names": [f"rec-{i}-{j}"],
                                         "actor": f"instance-{i}", "tenant": "acme", "outcome": "ok"})
        except Exception as e:  # reported below: a thread's failure must fail the test
            errors.append(e)

    threads = [threading.Thread(target=appender, args=(i,)) for i in range(APPENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    with psycopg.connect(db, autocommit=True) as conn:
        rows, run = load(conn, SCOPE)
        head = conn.execute("SELECT seq, entry FROM audit_head WHERE scope = %s", (SCOPE,)).fetchone()
    n = APPENDERS * PER
    assert [s for s, _ in rows] == list(range(1, n + 1))  # contiguous, nothing lost
    assert sorted(n for e in run for n in e.names) == sorted(f"rec-{i}-{j}" for i in range(APPENDERS) for j in range(PER))
    assert len({e.actor for e in run}) == APPENDERS
    chain = AuditChain(kr, SCOPE)
    rep = chain.verify_run(run)
    assert (rep.entries, rep.last_seq, rep.head_mac) == (n, n, run[-1].mac)
    assert head == (n, run[-1].to_json())
    # Who, what, whose, when, and never a value: no other field exists.
    for _, text in rows[:50]:
        assert set(json.loads(text)) <= FIELDS

    # A checkpoint kept off-host catches a truncated table (the rest still verifies by itself).
    cp = chain.checkpoint(run[-1])
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DELETE FROM audit_log WHERE scope = %s AND seq > %s", (SCOPE, n - 10))
        _, short = load(conn, SCOPE)
    rep_short = chain.verify_run(short)
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.check_against(cp, rep_short)
    assert ei.value.audit_position == n - 9


def test_a_tampered_row_is_named_by_seq(db):
    kr = keycustody.Keyring.generate()
    chain = AuditChain(kr, SCOPE)
    with psycopg.connect(db, autocommit=True) as conn:
        for j in range(40):
            append(conn, chain, {"op": "secret.read", "names": [f"OPENAI_KEY_{j}"], "actor": "user-7", "tenant": "acme"})
        # An insider rewrites who read what in row 17 (valid JSON, well formed, MAC unchanged).
        conn.execute(
            "UPDATE audit_log SET entry = replace(entry, '\"actor\":\"user-7\"', '\"actor\":\"user-9\"') "
            "WHERE scope = %s AND seq = 17",
            (SCOPE,),
        )
        _, run = load(conn, SCOPE)
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.verify_run(run)
    assert ei.value.audit_position == 17 and "MAC mismatch" in str(ei.value)
    assert "user-9" not in str(ei.value) and "OPENAI_KEY" not in str(ei.value)
