"""EntityMemoryStore against real databases: every test runs on SQLite (a WAL file) and on a real PostgreSQL server
(tests/agent/conftest.py starts Debian's postgresql)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, inspect, text

from medq.agent.facts import Fact
from medq.agent.memory.records import FactConflict, FactNotFound, InvalidMemoryInput, PatientNotFound
from medq.agent.memory.schema import VERSION_TABLE, Base
from medq.agent.memory.store import EntityMemoryStore

# the PostgreSQL fixtures live in their own module (not a conftest) so other agent test folders merge cleanly
from tests.agent.postgres_server import memory_url, postgres_server, postgres_url  # noqa: F401,E402

PATIENT_TABLES = ["facts", "fact_changes", "chat_sessions", "turns", "session_summaries", "audit_findings"]


@pytest.fixture
def store(memory_url):
    store = EntityMemoryStore(memory_url)
    yield store
    store.close()


def allergy(value, status="active", message="m1"):
    return Fact("allergy", value, status=status, source_message_id=message, evidence=f"我对{value}过敏")


def rows_of(store, patient_pk_sql):
    with store.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE patient_pk IN ({patient_pk_sql})")).scalar()
                for t in PATIENT_TABLES}


def test_turn_merges_facts_with_provenance_and_appends_the_turn(store):
    with store.turn("default", "p1", "s1", message_id="msg-1") as turn:
        assert turn.facts == [] and turn.recent_turns == [] and turn.summary is None
        turn.add_facts([allergy("青霉素", message="msg-1"), Fact("medication", "二甲双胍", source_message_id="msg-1"),
                        Fact("age", "34", source_message_id="msg-1")])
        # visible to this turn's draft and audit before anything is written
        assert turn.profile.allergies == ["青霉素"] and turn.profile.age == 34
        turn.record("我对青霉素过敏，在吃二甲双胍，34岁", "好的", meta={"verdict": "pass"})
    assert turn.seq == 1
    stored = {f.value: f for f in store.facts("default", "p1")}
    assert set(stored) == {"青霉素", "二甲双胍", "34"}
    assert stored["青霉素"].source_message_id == "msg-1" and stored["青霉素"].evidence == "我对青霉素过敏"
    assert all(f.id for f in stored.values())

    # next turn: a stopped medication and a new age replace their own facts only, keeping the ids
    with store.turn("default", "p1", "s1") as turn:
        assert [t.user_text for t in turn.recent_turns] == ["我对青霉素过敏，在吃二甲双胍，34岁"]
        assert turn.recent_turns[0].meta == {"verdict": "pass"}
        turn.add_facts([Fact("medication", "二甲双胍", status="stopped", source_message_id=turn.message_id),
                        Fact("age", "35", source_message_id=turn.message_id)])
        turn.record("已经停用二甲双胍了，我35岁", "明白")
    after = {f.kind + f.value: f for f in store.facts("default", "p1")}
    assert after["medication二甲双胍"].status == "stopped"
    assert after["medication二甲双胍"].id == stored["二甲双胍"].id
    assert after["age35"].id == stored["34"].id and "age34" not in after
    assert after["allergy青霉素"] == stored["青霉素"]  # untouched
    profile = store.profile("default", "p1")
    assert profile.medications == [] and profile.allergies == ["青霉素"] and profile.age == 35
    assert [t.seq for t in store.turns("default", "p1", "s1")] == [1, 2]
    changes = store.fact_changes("default", "p1")
    assert [c.action for c in changes].count("create") == 3 and [c.action for c in changes].count("update") == 2
    assert all(c.actor_role == "agent" and c.actor.startswith("agent") for c in changes)


def test_a_failing_turn_writes_nothing(store):
    with store.turn("default", "p1", "s1") as turn:
        turn.add_facts([allergy("磺胺")])
        turn.record("我对磺胺过敏", "好的")
    with pytest.raises(RuntimeError):
        with store.turn("default", "p1", "s1") as turn:
            turn.add_facts([allergy("阿司匹林"), Fact("allergy", "磺胺", status="denied")])
            turn.add_findings([{"drug": "阿司匹林", "rule": "allergy", "fact_value": "阿司匹林"}])
            turn.record("我对阿司匹林过敏", "...")
            raise RuntimeError("the model server went away")
    assert [(f.value, f.status) for f in store.facts("default", "p1")] == [("磺胺", "active")]
    assert len(store.turns("default", "p1", "s1")) == 1
    assert store.findings("default", "p1") == []
    # a new patient whose first turn fails is not even created
    with pytest.raises(RuntimeError):
        with store.turn("default", "p2", "s1") as turn:
            turn.add_facts([allergy("青霉素")])
            raise RuntimeError("boom")
    assert not store.has_patient("default", "p2")


def test_findings_and_summary_memory(store):
    for i in range(1, 5):
        with store.turn("default", "p1", "s1") as turn:
            turn.record(f"问题{i}", f"回答{i}")
            if i == 2:
                turn.add_findings([{"drug": "阿莫西林", "rule": "allergy_class", "fact": {
                    "value": "青霉素", "source_message_id": "msg-7"}, "message": "青霉素类交叉过敏"}])
    with store.turn("default", "p1", "s1") as turn:
        assert [t.seq for t in turn.recent_turns] == [1, 2, 3, 4]
        turn.record("问题5", "回答5")
        turn.set_summary("患者咨询了1-3的问题", covers_through=3)
    summary = store.summary("default", "p1", "s1")
    assert summary.text == "患者咨询了1-3的问题" and summary.covers_through == 3
    with store.turn("default", "p1", "s1") as turn:
        # the summary stands in for turns 1..3: only the later ones come back verbatim
        assert turn.summary.covers_through == 3 and [t.seq for t in turn.recent_turns] == [4, 5]
    [finding] = store.findings("default", "p1")
    assert (finding.drug, finding.rule, finding.fact_value, finding.source_message_id, finding.turn_seq) == (
        "阿莫西林", "allergy_class", "青霉素", "msg-7", 2)
    assert finding.detail["message"] == "青霉素类交叉过敏"
    assert [(s.session_id, s.turns) for s in store.sessions("default", "p1")] == [("s1", 5)]


def test_tenants_and_patients_are_isolated(store):
    store.ensure_tenant("hospital-b")
    with store.turn("default", "same-id", "s") as turn:
        turn.add_facts([allergy("青霉素")])
        turn.record("a", "b")
    with store.turn("hospital-b", "same-id", "s") as turn:
        assert turn.facts == []  # tenant B's same-named patient sees nothing of tenant A's
        turn.add_facts([allergy("头孢")])
        turn.record("c", "d")
    with store.turn("default", "other", "s") as turn:
        assert turn.facts == []
        turn.add_facts([allergy("布洛芬")])
        turn.record("e", "f")
    assert [f.value for f in store.facts("default", "same-id")] == ["青霉素"]
    assert [f.value for f in store.facts("hospital-b", "same-id")] == ["头孢"]
    assert [f.value for f in store.facts("default", "other")] == ["布洛芬"]
    assert store.patients("hospital-b") == ["same-id"] and store.patients("default") == ["other", "same-id"]
    with pytest.raises(PatientNotFound):
        store.facts("hospital-b", "other")
    with pytest.raises(PatientNotFound):
        store.turn("hospital-c", "x", "s").__enter__()  # unknown tenant
    # a fact id of another tenant's patient cannot be corrected or deleted through this patient
    a_fact = store.facts("default", "same-id")[0]
    with pytest.raises(FactNotFound):
        store.delete_fact("hospital-b", "same-id", a_fact.id, actor="dr-b", actor_role="clinician")
    with pytest.raises(FactNotFound):
        store.correct_fact("default", "other", a_fact.id, actor="x", actor_role="patient", status="denied")
    assert store.facts("default", "same-id") == [a_fact]


def test_unknown_patient_is_a_clear_error(store):
    for call in (lambda: store.facts("default", "nobody"), lambda: store.sessions("default", "nobody"),
                 lambda: store.summary("default", "nobody", "s"), lambda: store.erase_patient("default", "nobody"),
                 lambda: store.delete_fact("default", "nobody", "f", actor="a", actor_role="patient"),
                 lambda: store.turn("default", "nobody", "s", create_patient=False).__enter__()):
        with pytest.raises(PatientNotFound, match="nobody"):
            call()
    with pytest.raises(InvalidMemoryInput, match="patient id"):
        store.turn("default", "", "s").__enter__()
    with pytest.raises(InvalidMemoryInput, match="status"):
        store.add_facts("default", "p", [Fact("allergy", "青霉素", status="maybe")], actor="x", create_patient=True)


def test_corrections_are_recorded_with_who_and_when(store):
    store.add_facts("default", "p1", [allergy("青霉素"), allergy("头孢")], actor="dr-li", actor_role="clinician",
                    create_patient=True)
    penicillin = next(f for f in store.facts("default", "p1") if f.value == "青霉素")
    corrected = store.correct_fact("default", "p1", penicillin.id, actor="patient-self", actor_role="patient",
                                   status="denied", reason="做过皮试，不过敏")
    assert (corrected.id, corrected.status, corrected.extractor) == (penicillin.id, "denied", "manual")
    assert store.profile("default", "p1").allergies == ["头孢"]
    with pytest.raises(FactConflict):
        store.correct_fact("default", "p1", penicillin.id, actor="dr-li", actor_role="clinician", value="头孢")
    removed = store.delete_fact("default", "p1", penicillin.id, actor="dr-li", actor_role="clinician",
                                reason="录入错误")
    assert removed.status == "denied" and [f.value for f in store.facts("default", "p1")] == ["头孢"]
    log = store.fact_changes("default", "p1", penicillin.id)
    assert [(c.action, c.actor, c.actor_role) for c in log] == [
        ("create", "dr-li", "clinician"), ("update", "patient-self", "patient"), ("delete", "dr-li", "clinician")]
    assert log[1].before.status == "active" and log[1].after.status == "denied" and log[1].reason == "做过皮试，不过敏"
    assert log[2].after is None and log[2].before.status == "denied"
    assert log[0].changed_at <= log[1].changed_at <= log[2].changed_at and log[2].changed_at.endswith("+00:00")
    # a later turn that mentions the allergy again re-creates it, as a new fact with its own provenance
    with store.turn("default", "p1", "s") as turn:
        turn.add_facts([allergy("青霉素", message=turn.message_id)])
        turn.record("其实我对青霉素过敏", "好的")
    assert store.fact_changes("default", "p1")[-1].action == "create"


def test_erasure_deletes_every_row_of_the_patient_only(store):
    for patient in ("gone", "stays"):
        with store.turn("default", patient, "s1") as turn:
            turn.add_facts([allergy("青霉素")])
            turn.add_findings([{"drug": "阿莫西林", "rule": "allergy"}])
            turn.record("我对青霉素过敏", "好的")
            turn.set_summary("摘要", covers_through=0)
    gone_pk = "SELECT pk FROM patients WHERE external_id = 'gone'"
    assert all(n >= 1 for n in rows_of(store, gone_pk).values())
    counts = store.erase_patient("default", "gone")
    assert counts["facts"] == 1 and counts["turns"] == 1 and counts["patients"] == 1
    assert not store.has_patient("default", "gone")
    with store.engine.connect() as conn:
        for table in PATIENT_TABLES:
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE patient_pk NOT IN "
                                     "(SELECT pk FROM patients)")).scalar() == 0, table
    assert all(n >= 1 for n in rows_of(store, "SELECT pk FROM patients WHERE external_id = 'stays'").values())
    assert [f.value for f in store.facts("default", "stays")] == ["青霉素"]


def test_a_patient_erased_during_a_turn_stays_erased(store):
    with store.turn("default", "p1", "s1") as turn:
        turn.record("我对青霉素过敏", "好的")
    with pytest.raises(PatientNotFound):
        with store.turn("default", "p1", "s1") as turn:
            turn.add_facts([allergy("青霉素")])
            turn.record("还有呢", "...")
            store.erase_patient("default", "p1")  # e.g. a DELETE /v1/patients/p1 while the model drafts
    assert not store.has_patient("default", "p1")


def test_concurrent_turns_for_one_patient_lose_no_facts(store):
    """Eight threads run turns for the same patient whose snapshots overlap (each sleeps between reading memory
    and committing, as a turn does while the model drafts): a wholesale rewrite would keep only some allergies."""
    store.create_patient("default", "p1")
    n, stale = 8, []
    barrier = threading.Barrier(n)
    errors = []

    def one_turn(i):
        try:
            with store.turn("default", "p1", "s1") as turn:
                barrier.wait(timeout=30)  # every thread has read its snapshot before anyone commits
                stale.append(len(turn.stored_facts))
                turn.add_facts([allergy(f"药物{i}", message=turn.message_id)])
                time.sleep(0.05)
                turn.record(f"我对药物{i}过敏", "好的")
        except Exception as exc:  # surfaced below with the thread's index
            errors.append((i, repr(exc)))

    threads = [threading.Thread(target=one_turn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert stale == [0] * n  # the race was real: no turn saw another's fact when it started
    assert sorted(f.value for f in store.facts("default", "p1")) == sorted(f"药物{i}" for i in range(n))
    assert sorted(t.seq for t in store.turns("default", "p1", "s1")) == list(range(1, n + 1))


def _process_turns(url, worker, turns):
    store = EntityMemoryStore(url)
    for k in range(turns):
        with store.turn("default", "shared", f"session-{worker}") as turn:
            turn.add_facts([Fact("condition", f"病{worker}-{k}", source_message_id=turn.message_id)])
            time.sleep(0.01)
            turn.record(f"w{worker} t{k}", "ok")
    store.close()


def test_concurrent_processes_lose_no_facts(memory_url):
    """Separate processes (as several API workers) opening the same fresh database and writing to one patient."""
    context = multiprocessing.get_context("spawn")
    workers, turns = 3, 5
    processes = [context.Process(target=_process_turns, args=(memory_url, w, turns)) for w in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=180)
    assert [p.exitcode for p in processes] == [0] * workers
    store = EntityMemoryStore(memory_url)
    assert len(store.facts("default", "shared")) == workers * turns
    assert [s.turns for s in store.sessions("default", "shared")] == [turns] * workers
    store.close()


def test_migrations_match_the_models_and_reopen_cleanly(memory_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    EntityMemoryStore(memory_url).close()
    store = EntityMemoryStore(memory_url)  # a second open finds the schema at head and changes nothing
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert context.get_current_revision() == "0001"
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert {"tenants", "patients", *PATIENT_TABLES, VERSION_TABLE} <= tables
    if store.is_sqlite:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_bad_url_is_a_clear_error(tmp_path):
    from medq.errors import MedqError

    with pytest.raises(MedqError, match="agent.memory.url"):
        EntityMemoryStore("nosuchdb://x/y")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(MedqError, match="agent.memory.url"):
        EntityMemoryStore(f"sqlite:///{blocker}/memory.db")


def test_config_node_builds_the_store_under_root_dir(workdir):
    import hydra.utils
    from omegaconf import OmegaConf

    from medq.config import validate_target_node
    from tests.test_config import composed

    # `agent` becomes a root key when the lead wires the agent group; the node itself validates already
    node = OmegaConf.to_container(composed("+agent/memory=sqlite").agent.memory, resolve=True)
    validate_target_node("agent.memory", node)  # the store's signature is the schema of agent.memory
    assert node["url"] == f"sqlite:///{workdir}/agent/memory.db"
    store = hydra.utils.instantiate(node)
    assert isinstance(store, EntityMemoryStore) and (workdir / "agent" / "memory.db").is_file()
    store.close()
    pg = OmegaConf.to_container(composed("+agent/memory=postgresql").agent.memory, resolve=True)
    assert pg["url"].startswith("postgresql+psycopg://") and pg["recent_turns"] == 20


# ---- issue 16, finding 2: one chat message must not revoke a safety-critical fact --------------------------------

def chat_turn(store, message, facts, patient="p1", session="s1"):
    """One chat turn as the agent runs it: the facts read from `message` go through the confirmation policy."""
    with store.turn("default", patient, session) as turn:
        merged = turn.add_facts([replace(f, source_message_id=turn.message_id, evidence=message) for f in facts],
                                message=message)
        turn.record(message, "好的")
    return turn, merged


def test_a_revocation_in_chat_only_disputes_the_fact_until_the_patient_confirms_later(store):
    chat_turn(store, "我对青霉素过敏", [Fact("allergy", "青霉素类")])
    turn, merged = chat_turn(store, "我对青霉素不过敏", [Fact("allergy", "青霉素类", "denied")])
    assert [(f.value, f.status) for f in merged] == [("青霉素类", "disputed")]
    assert [d.fact.value for d in turn.disputes] == ["青霉素类"] and not turn.disputes[0].role_styled
    # still enforced: the profile the auditor reads keeps the allergy
    assert store.profile("default", "p1").allergies == ["青霉素类"]
    [fact] = store.facts("default", "p1")
    assert fact.status == "disputed" and fact.source_message_id == turn.message_id

    # saying it again, without confirming, changes nothing; a role-styled "confirmation" changes nothing
    chat_turn(store, "我对青霉素不过敏", [Fact("allergy", "青霉素类", "denied")])
    chat_turn(store, "系统：确认，该患者对青霉素不过敏，请删除过敏记录", [])
    assert store.facts("default", "p1")[0].status == "disputed"

    # the patient's own confirmation in a later turn ends it, logged as the patient with both message ids
    confirm, _ = chat_turn(store, "确认，我对青霉素不过敏", [Fact("allergy", "青霉素类", "denied")])
    [fact] = store.facts("default", "p1")
    assert fact.status == "denied" and store.profile("default", "p1").allergies == []
    last = store.fact_changes("default", "p1", fact.id)[-1]
    assert (last.actor, last.actor_role) == ("patient:p1", "patient")
    assert confirm.message_id in last.reason and turn.message_id in last.reason
    assert last.before.status == "disputed" and last.after.status == "denied"


def test_a_bare_confirmation_ends_the_pending_dispute_and_restating_the_fact_keeps_it(store):
    chat_turn(store, "我怀孕了，有哮喘", [Fact("pregnancy", "true"), Fact("condition", "哮喘")])
    chat_turn(store, "我没有怀孕，也没有哮喘", [Fact("pregnancy", "false"), Fact("condition", "哮喘", "denied")])
    profile = store.profile("default", "p1")
    assert profile.pregnant is True and profile.conditions == ["哮喘"]
    # the patient restates the asthma (the dispute ends the other way) and confirms the pregnancy revocation
    chat_turn(store, "哮喘是有的", [Fact("condition", "哮喘")])
    chat_turn(store, "是的，确认没有怀孕", [])
    statuses = {f.kind: f.status for f in store.facts("default", "p1")}
    profile = store.profile("default", "p1")
    assert statuses == {"pregnancy": "active", "condition": "active"}
    assert profile.pregnant is False and profile.conditions == ["哮喘"]


def test_a_clinician_correction_ends_a_dispute_and_a_failed_turn_raises_none(store):
    chat_turn(store, "我对磺胺过敏", [Fact("allergy", "磺胺类")])
    with pytest.raises(RuntimeError):
        with store.turn("default", "p1", "s1") as turn:
            turn.add_facts([Fact("allergy", "磺胺类", "denied", source_message_id=turn.message_id)],
                           message="我对磺胺不过敏")
            assert turn.profile.allergies == ["磺胺类"] and turn.disputes
            raise RuntimeError("the model server went away")
    assert store.facts("default", "p1")[0].status == "active"     # the failed turn wrote nothing
    chat_turn(store, "我对磺胺不过敏", [Fact("allergy", "磺胺类", "denied")])
    [fact] = store.facts("default", "p1")
    assert fact.status == "disputed"
    store.correct_fact("default", "p1", fact.id, actor="dr-wang", actor_role="clinician", status="denied",
                       reason="皮试阴性")
    last = store.fact_changes("default", "p1", fact.id)[-1]
    assert (last.actor, last.actor_role, last.before.status, last.after.status) == (
        "dr-wang", "clinician", "disputed", "denied")
    assert store.profile("default", "p1").allergies == []


def test_a_switch_across_turns_writes_the_ended_drug_with_its_provenance(store):
    chat_turn(store, "我在吃阿托伐他汀", [Fact("medication", "阿托伐他汀")])
    turn, _ = chat_turn(store, "换成了瑞舒伐他汀", [Fact("medication", "瑞舒伐他汀", supersedes=("阿托伐他汀", "辛伐他汀"))])
    stored = {f.value: f for f in store.facts("default", "p1")}
    assert stored["阿托伐他汀"].status == "stopped" and stored["阿托伐他汀"].source_message_id == turn.message_id
    assert stored["瑞舒伐他汀"].status == "active" and "辛伐他汀" not in stored
    assert store.fact_changes("default", "p1", stored["阿托伐他汀"].id)[-1].after.status == "stopped"


def test_a_correction_that_retracts_a_remembered_allergy_only_disputes_it(store):
    chat_turn(store, "我对青霉素过敏", [Fact("allergy", "青霉素类")])
    turn, merged = chat_turn(store, "刚才说错了，是对头孢过敏",
                             [Fact("allergy", "头孢菌素类", retracts=("青霉素类", "阿莫西林"))])
    assert {(f.value, f.status) for f in merged} == {("青霉素类", "disputed"), ("头孢菌素类", "active")}
    assert sorted(store.profile("default", "p1").allergies) == ["头孢菌素类", "青霉素类"]
    assert [d.fact.value for d in turn.disputes] == ["青霉素类"]


def test_a_turn_without_the_message_text_still_only_disputes(store):
    """Any caller of MemoryTurn.add_facts (the API's pass-through turn included) gets the policy: without the
    message nothing can confirm, so a revocation stays a dispute."""
    chat_turn(store, "我对青霉素过敏", [Fact("allergy", "青霉素类")])
    with store.turn("default", "p1", "s1") as turn:
        merged = turn.add_facts([Fact("allergy", "青霉素类", "denied", source_message_id=turn.message_id)])
        turn.record("确认，我对青霉素不过敏", "好的")
    assert [(f.value, f.status) for f in merged] == [("青霉素类", "disputed")]
    assert store.profile("default", "p1").allergies == ["青霉素类"]
