"""The progress store (toolkit.progress): a file that survives restarts, and never breaks drills."""

from datetime import datetime

import pytest

from toolkit import kb, progress
from toolkit.progress import MODULES, ProgressStore

WARNING_START = "学习记录无法保存"


@pytest.fixture(autouse=True)
def store_path(tmp_path, monkeypatch):
    """Every test gets its own store file via KEFU_PROGRESS, and no cached store."""
    path = tmp_path / "progress.sqlite3"
    monkeypatch.setenv("KEFU_PROGRESS", str(path))
    monkeypatch.setattr(progress, "_stores", {})
    return path


def test_modules_are_the_skills_plus_capstone():
    assert MODULES == (*kb.SKILLS, "capstone", "voice")


def test_default_path_uses_env_then_home(store_path, monkeypatch, tmp_path):
    assert progress.default_path() == store_path
    monkeypatch.delenv("KEFU_PROGRESS")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert progress.default_path() == tmp_path / "home" / ".kefu-lab" / "progress.sqlite3"


def test_record_and_read_back(store_path):
    store = ProgressStore()
    assert store.path == store_path and store.persistent and store.warning is None
    store.record("phrases", "opening-01", "喂,说话呀。", False, 3.5)
    store.record("questions", "open-help-how", "open", True)
    rows = store.attempts()
    assert [r["module"] for r in rows] == ["phrases", "questions"]
    first = rows[0]
    assert first["item"] == "opening-01" and first["answer"] == "喂,说话呀。"
    assert first["correct"] is False and first["seconds"] == 3.5
    datetime.fromisoformat(first["at"])
    assert rows[1]["correct"] is True and rows[1]["seconds"] is None
    assert [r["item"] for r in store.attempts("questions")] == ["open-help-how"]
    assert store.attempts("fab") == []


def test_records_survive_a_new_store_on_the_same_file(store_path):
    ProgressStore(store_path).record("fab", "network-seed", "F→A→B", True, 12)
    again = ProgressStore(store_path)  # as after a kernel restart
    assert store_path.exists()
    assert [(r["module"], r["item"], r["correct"]) for r in again.attempts()] == [("fab", "network-seed", True)]


def test_unknown_module_is_refused_in_chinese():
    with pytest.raises(ValueError, match="未知的练习模块"):
        ProgressStore().record("typing", "x", "y", True)


def test_mastery_covers_every_module():
    store = ProgressStore()
    for correct in (True, True, False, True):
        store.record("spin", "s-operator", "situation", correct)
    store.record("fab", "network-seed", "x", False)
    stats = store.mastery()
    assert list(stats) == list(MODULES)
    assert stats["spin"] == {"attempts": 4, "correct": 3, "rate": 0.75}
    assert stats["fab"] == {"attempts": 1, "correct": 0, "rate": 0.0}
    assert stats["listening"] == {"attempts": 0, "correct": 0, "rate": 0.0}


def test_next_to_practise_puts_unpractised_then_weakest_first():
    store = ProgressStore()
    for module in MODULES:
        store.record(module, "x", "a", True)
    store.record("spin", "x", "a", False)        # spin: 50 %
    for _ in range(3):
        store.record("fab", "x", "a", False)     # fab: 25 %
    order = store.next_to_practise()
    assert sorted(order) == sorted(MODULES)
    assert order[:2] == ["fab", "spin"]
    fresh = ProgressStore(store.path.with_name("other.sqlite3"))
    fresh.record("capstone", "start", "a", False)
    assert fresh.next_to_practise()[0] == "listening"  # never practised comes first, in course order
    assert fresh.next_to_practise()[-1] == "capstone"


def test_module_level_api_uses_kefu_progress(store_path):
    progress.record("listening", "level-1-1", "1", True, 2)
    assert store_path.exists()
    assert progress.attempts()[0]["item"] == "level-1-1"
    assert progress.mastery()["listening"]["attempts"] == 1
    assert progress.next_to_practise()[-1] == "listening"
    assert ProgressStore(store_path).attempts("listening")[0]["correct"] is True


def _assert_fallback(store):
    assert not store.persistent
    assert store.warning.startswith(WARNING_START)
    assert "练习仍可继续" in store.warning and "不会被记住" in store.warning
    store.record("phrases", "opening-01", "x", True)  # still works, in memory
    assert [r["item"] for r in store.attempts()] == ["opening-01"]
    assert store.mastery()["phrases"]["attempts"] == 1


def test_corrupt_file_falls_back_to_memory_with_one_warning(store_path):
    garbage = b"\x00\xffnot a database at all\x13" * 100
    store_path.write_bytes(garbage)
    store = ProgressStore(store_path)
    _assert_fallback(store)
    assert "损坏" in store.warning
    assert store_path.read_bytes() == garbage  # the trainee's file is left alone
    assert store.take_warning() == store.warning
    assert store.take_warning() is None  # shown ONCE


def test_unwritable_path_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "x" / "file.txt"
    blocker.parent.mkdir()
    blocker.write_text("a regular file, not a folder")
    store = ProgressStore(blocker / "progress.db")
    _assert_fallback(store)


def test_directory_path_falls_back_to_memory(tmp_path):
    store = ProgressStore(tmp_path)
    _assert_fallback(store)


def test_file_broken_after_start_falls_back_at_write_time(store_path):
    store = ProgressStore(store_path)
    store.record("fab", "a", "x", True)
    store_path.write_bytes(b"garbage" * 200)
    store.record("fab", "b", "x", False)  # must not raise
    assert not store.persistent and store.warning.startswith(WARNING_START)
    assert "b" in [r["item"] for r in store.attempts()]


def test_shared_store_warning_is_handed_out_once(store_path):
    store_path.write_bytes(b"garbage" * 200)
    progress.record("fab", "a", "x", True)
    message = progress.take_warning()
    assert message and message.startswith(WARNING_START)
    assert progress.take_warning() is None
    assert progress.attempts("fab")[0]["item"] == "a"


# ----------------------------------------------------------------------------- mastery and FSRS

DAY1 = datetime(2026, 12, 1, 9, 0)


def _answer(store, module, n, correct=True, start=DAY1, item="i{}"):
    from datetime import timedelta

    for i in range(n):
        store.record(module, item.format(i), "a", correct, at=start + timedelta(minutes=i))


def test_one_correct_answer_is_not_mastery():
    store = ProgressStore()
    store.record("spin", "s-operator", "situation", True, at=DAY1)
    skill = store.skills(DAY1)["spin"]
    assert (skill.attempts, skill.correct, skill.rate, skill.recent_rate) == (1, 1, 1.0, 1.0)
    assert not skill.mastered  # 100 % after one answer is not evidence


def test_mastery_needs_enough_correct_answers_on_two_days():
    from datetime import timedelta

    store = ProgressStore()
    _answer(store, "fab", 9, start=DAY1)  # nine right, all on one day
    assert not store.skills(DAY1 + timedelta(hours=1))["fab"].mastered
    _answer(store, "fab", 1, start=DAY1 + timedelta(days=1))  # one more, the next day
    skill = store.skills(DAY1 + timedelta(days=1, hours=1))["fab"]
    assert skill.days == 2 and skill.correct == 10 and skill.mastered
    assert progress.MASTERY["min_correct"] == 5 and progress.MASTERY["min_days"] == 2


def test_mastery_needs_recent_accuracy():
    from datetime import timedelta

    store = ProgressStore()
    _answer(store, "questions", 6, start=DAY1)
    _answer(store, "questions", 3, correct=False, start=DAY1 + timedelta(days=1))
    skill = store.skills(DAY1 + timedelta(days=1, hours=1))["questions"]
    assert skill.correct == 6 and skill.days == 1 and not skill.mastered
    _answer(store, "questions", 6, start=DAY1 + timedelta(days=2), item="j{}")
    skill = store.skills(DAY1 + timedelta(days=2, hours=1))["questions"]
    # last 10: 1 right + 3 wrong + 6 right = 70 % < 80 %
    assert skill.days == 2 and skill.recent_rate == 0.7 and not skill.mastered
    _answer(store, "questions", 2, start=DAY1 + timedelta(days=2, hours=2), item="k{}")
    assert store.skills(DAY1 + timedelta(days=2, hours=3))["questions"].mastered  # 90 %


def test_fsrs_schedules_wrong_items_soon_and_right_items_later():
    from datetime import timedelta

    store = ProgressStore()
    store.record("spin", "wrong", "x", False, at=DAY1)
    store.record("spin", "right", "x", True, at=DAY1)
    store.record("spin", "right", "x", True, at=DAY1 + timedelta(minutes=10))  # learnt: review in days
    soon = DAY1 + timedelta(minutes=30)
    assert [(m, i) for m, i, _ in store.due_items(soon)] == [("spin", "wrong")]
    later = DAY1 + timedelta(days=30)
    assert {i for _m, i, _due in store.due_items(later)} == {"wrong", "right"}
    skill = store.skills(soon)["spin"]
    assert skill.due_now == 1 and skill.next_due <= progress._aware(soon)


def test_next_to_practise_puts_due_reviews_then_new_modules_first():
    from datetime import timedelta

    store = ProgressStore()
    for module in (m for m in MODULES if m != "capstone"):  # all but the capstone, right twice: reviews in days
        store.record(module, "x", "a", True, at=DAY1)
        store.record(module, "x", "a", True, at=DAY1 + timedelta(minutes=10))
    store.record("complaint_types", "y", "a", False, at=DAY1 + timedelta(minutes=20))  # due again soon
    store.record("fab", "y", "a", False, at=DAY1 + timedelta(minutes=15))               # due even sooner
    order = store.next_to_practise(DAY1 + timedelta(hours=1))
    assert sorted(order) == sorted(MODULES)
    assert order[:3] == ["fab", "complaint_types", "capstone"]  # due (most overdue first), then new
    assert order[-1] != "capstone"


def test_dashboard_states_the_rule_and_is_not_green_after_one_answer():
    from toolkit.widgets import dashboard

    progress.record("spin", "s-operator", "situation", True)
    d = dashboard().drill
    rule = d.rule.value
    assert "至少答对 5 次" in rule and "2 天" in rule and "最近 10 次" in rule and "80%" in rule
    row = d.frame.set_index("key").loc["spin"]
    assert not row["mastered"] and row["掌握情况"] == "练习中" and row["最近正确率"] == 1.0
    assert "已掌握" not in d.table.value
    assert "（还没练过）" in d.suggestions.value  # nothing due yet: new modules next
