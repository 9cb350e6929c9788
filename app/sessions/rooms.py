"""Classroom rooms (docs/classroom.md): a teacher's session shown live to a class, forked by students.

Layer: sessions; nothing here knows HTTP.

A room has a short join code — eight letters and digits from an alphabet without look-alikes (no I, L, O,
0, 1), written ``ABCD-EFGH``, easy to read aloud and about 40 bits hard to guess — and a teacher token that
only the teacher gets. Forks are sessions of their own that remember their room; they count against the
room's limit (``BPP_MAX_FORKS_PER_ROOM``), against the forking client's share of that room
(``BPP_MAX_FORKS_PER_CLIENT``) and, like every session, against the client's and its address's caps. The
teacher may remove a fork from the class.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app import wire
from app.engine import EngineError
from app.sessions.build import trainer_from_export
from app.sessions.errors import MovedOn, NotFound, NoToken, OverLimit, SessionError, StorageUnavailable, WrongToken
from app.sessions.session import Session
from app.sessions.storage import Storage, StorageError, hash_token
from app.sessions.store import SessionStore

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# The derivation lesson's predictions and the step each is asked at (static/js/lesson/steps.js).
PREDICTION_STEPS = {"delta3": 3, "delta2": 4, "grad": 4, "update": 8} | {
    f"quiz.{q}": 9 for q in ("theta_count", "delta1", "direction", "nonoutput", "shape", "first")
}
MAX_LESSON_ANSWERS = 2000  # students counted per prediction and sample: a tally, bounded


def new_code() -> str:
    """A fresh join code, ``ABCD-EFGH``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(code: str) -> str:
    """Accept codes typed in any case, with or without the hyphen or spaces."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == CODE_LENGTH else raw


@dataclass(eq=False)
class Lesson:
    """The lesson step and sample the teacher shows the room, and the students' first verdicts on its
    predictions for that sample (by client; self-reported: a tally for the class view, not a grade)."""

    lesson: str
    step: int
    sample: int
    version: int
    answers: dict[str, dict[str, bool]] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        return {"lesson": self.lesson, "step": self.step, "sample": self.sample}

    def tally(self) -> dict[str, Any]:
        counts = [
            {"prediction": p, "step": PREDICTION_STEPS[p], "answered": len(by), "right": sum(by.values())}
            for p, by in self.answers.items()
        ]
        return {**self.state(), "answers": sorted(counts, key=lambda c: (c["step"], c["prediction"]))}


@dataclass(eq=False)
class Room:
    """A teacher's session shown to a class."""

    code: str
    session_id: str
    teacher_hash: str  # all the server keeps of the teacher token
    title: str
    created: float = field(default_factory=time.time)
    closed: bool = False
    lesson: Lesson | None = None  # not saved: a restart ends the lesson, not the room
    lesson_version: int = 0


class RoomStore:
    """Every open room, by code."""

    def __init__(self, sessions: SessionStore, db: Storage | None = None) -> None:
        self.sessions = sessions
        self.db = db
        self.rooms: dict[str, Room] = {}

    async def open(self, session: Session, title: str) -> tuple[Room, str]:
        """Open a room showing ``session``: the room and its teacher token (saved before it is handed out;
        ``StorageUnavailable`` when the database cannot save it)."""
        code = new_code()
        while code in self.rooms:
            code = new_code()
        token = secrets.token_urlsafe(24)
        room = Room(code, session.id, hash_token(token), title or "Backprop Playground")
        self.rooms[code] = room
        if self.db is not None:
            try:
                await self.db.save_room(room.code, room.session_id, room.teacher_hash, room.title, room.created)
            except StorageError as err:
                del self.rooms[code]
                raise StorageUnavailable.because(err) from None
        return room, token

    def get(self, code: str) -> Room:
        """The open room with this code (``NotFound`` otherwise)."""
        room = self.rooms.get(normalize_code(code))
        if room is None or room.closed or room.session_id not in self.sessions.sessions:
            raise NotFound(f"no open room {code!r}")
        return room

    def teacher_session(self, room: Room) -> Session:
        """The session the room shows."""
        session = self.sessions.sessions.get(room.session_id)
        if session is None:
            raise NotFound(f"room {room.code} has ended: its session is gone")
        return session

    def check_teacher(self, room: Room, token: str | None) -> None:
        """``NoToken`` without a token, ``WrongToken`` unless it is the room's teacher token."""
        if not token:
            raise NoToken("this call needs the room's teacher token: Authorization: Bearer <token>")
        if not secrets.compare_digest(hash_token(token).encode(), room.teacher_hash.encode()):
            raise WrongToken("that token is not this room's teacher token")
        session = self.sessions.sessions.get(room.session_id)
        if session is not None:
            session.touch()  # the teacher's calls are the teacher's use of the session the room shows

    def forks(self, room: Room) -> list[Session]:
        """The sessions forked from this room, oldest first."""
        return sorted((s for s in self.sessions.sessions.values() if s.room == room.code), key=lambda s: s.created)

    async def fork(
        self,
        room: Room,
        client: str,
        name: str | None,
        address: str | None = None,
        source: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> tuple[Session, str]:
        """A new session that starts from the teacher's exact config, data, weights and optimizer state (its
        footprint charged to the student's client and address); with its token. ``source`` gives the teacher's
        export when another worker holds the teacher's session (a cluster)."""
        self._check_room_limit(room, client)
        if self.sessions.shared is not None:  # the forks of every worker count (a Redis call, off the event loop)
            await asyncio.get_running_loop().run_in_executor(
                self.sessions.reader, self.sessions.shared.check, client, room.code
            )
        if source is None:
            teacher = self.teacher_session(room)
            doc = await teacher.read(teacher.export)
        else:
            doc = await source()
        store = self.sessions
        (config, trainer), charge = await store.build(
            trainer_from_export, doc, store.settings, client=client, address=address
        )
        try:
            # Again: concurrent forks may have filled the room while this one was built. ``create`` adds the
            # session before its first await, so this check and the insertion cannot interleave with another's.
            self._check_room_limit(room, client)
            if room.closed:
                raise NotFound(f"no open room {room.code!r}")
        except SessionError:
            charge.clear()
            raise
        return await store.create(config, client, trainer, room=room.code, name=name, charge=charge)

    def _check_room_limit(self, room: Room, client: str) -> None:
        if self.sessions.shared is not None:  # in a cluster: ``fork`` checks in Redis, ``create`` takes atomically
            return
        settings = self.sessions.settings
        forks = self.forks(room)
        if len(forks) >= settings.max_forks_per_room:
            raise OverLimit(f"room {room.code} is full ({settings.max_forks_per_room} forks)")
        per_client = settings.max_forks_per_client
        if sum(1 for s in forks if s.client == client) >= per_client:
            raise OverLimit(f"you hold {per_client} forks of room {room.code} already: delete one to fork again")

    async def remove_fork(self, room: Room, session_id: str) -> None:
        """Remove one fork from the class (the teacher's call): the session is deleted, its socket told so."""
        session = self.sessions.sessions.get(session_id)
        if session is None or session.room != room.code:
            raise NotFound(f"no fork {session_id!r} in room {room.code}")
        await self.sessions.remove(session_id)

    def class_view(self, room: Room) -> list[dict[str, Any]]:
        """Every fork with its name, step, epoch, status and latest losses (from the forks' snapshots: the view
        never waits for a fork's engine work)."""
        out = []
        for s in self.forks(room):
            if s.snapshot is None:
                continue
            m = s.snapshot.metrics
            out.append(
                {
                    "id": s.id,
                    "name": s.name,
                    "created": s.created,
                    "status": s.status,
                    "step": m.step,  # the step and epoch the losses are of
                    "epoch": m.epoch,
                    "train_loss": wire.finite(m.train_loss),
                    "test_loss": wire.finite(m.test_loss),
                    "train_accuracy": m.train_accuracy,
                }
            )
        return out

    def set_lesson(self, room: Room, lesson: str | None, step: int, sample: int) -> Lesson | None:
        """Show a lesson step and sample to the room (None: no lesson) and wake its viewers; a new sample or
        lesson starts a new tally."""
        if lesson is None:
            room.lesson_version += 1
            room.lesson = None
        else:
            n_train = self.teacher_session(room).trainer.n_train
            if sample >= n_train:
                raise EngineError("sample", f"must be a training-set index 0..{n_train - 1}, got {sample}")
            room.lesson_version += 1
            old = room.lesson
            same = old is not None and old.lesson == lesson and old.sample == sample
            room.lesson = Lesson(lesson, step, sample, room.lesson_version, old.answers if same and old else {})
        session = self.sessions.sessions.get(room.session_id)
        if session is not None:
            session.live.mark_changed()  # wakes the room's viewers, who then send the new lesson state
        return room.lesson

    def answer(self, room: Room, client: str, prediction: str, sample: int, right: bool) -> None:
        """Count a student's first verdict on one prediction of the current lesson sample (409 when the room
        shows no lesson or another sample: the teacher moved on)."""
        lesson = room.lesson
        if lesson is None:
            raise MovedOn("the room shows no lesson now")
        if sample != lesson.sample:
            raise MovedOn(f"the lesson is on sample {lesson.sample} now, not {sample}", field="sample")
        by = lesson.answers.setdefault(prediction, {})
        if client not in by and len(by) < MAX_LESSON_ANSWERS:
            by[client] = right

    async def close(self, room: Room, strict: bool = True) -> None:
        """Close the room: viewers are disconnected; forks live on as ordinary sessions. The row goes first
        (``strict``: ``StorageUnavailable`` when it cannot, and the room stays open)."""
        if self.db is not None:
            try:
                await self.db.delete_room(room.code)
            except StorageError as err:
                if strict:
                    raise StorageUnavailable.because(err) from None
        room.closed = True
        self.rooms.pop(room.code, None)
        session = self.sessions.sessions.get(room.session_id)
        if session is not None:
            session.live.mark_changed()  # wakes the viewers, who then see the room is closed

    async def expire(self) -> None:
        """Close rooms whose teacher session has expired or been deleted."""
        for room in list(self.rooms.values()):
            if room.session_id not in self.sessions.sessions:
                await self.close(room, strict=False)

    async def load(self) -> int:
        """Bring back the saved rooms whose session is back (at start-up)."""
        if self.db is None:
            return 0
        _, rows = await self.db.load()
        for code, session_id, teacher_token, title, created in rows:
            if session_id in self.sessions.sessions:
                self.rooms[code] = Room(code, session_id, teacher_token, title, created)
            else:
                with contextlib.suppress(StorageError):
                    await self.db.delete_room(code)
        return len(self.rooms)
