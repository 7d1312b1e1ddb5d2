"""The catalogue: SQLAlchemy models of the domain (see docs/architecture.md).

The same models run on SQLite (the embedded default) and PostgreSQL. Times are
stored as timezone-aware UTC (:class:`UTCDateTime`); lists and small mappings
as JSON.

    >>> from workbench.store.models import Camera
    >>> Camera.__tablename__
    'camera'

Nothing outside ``workbench.store``, the ingest modules and the access layer
touches these classes: users get plain data (DataFrames, dataclasses) from the
access layer, never live ORM objects.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("investigator", "analyst", "trainer", "dispatcher", "auditor", "admin")
DATA_KINDS = ("footage", "plates")
CAMERA_KINDS = ("fixed", "ptz", "anpr", "mobile", "drone", "temporary")
BOOKMARK_KINDS = ("frame", "sighting", "note", "search")
PURPOSES = ("judicial-investigation", "administrative-police", "public-order", "traffic-management",
            "crisis-management", "training")


class UTCDateTime(TypeDecorator):
    """A timestamp always handed out as timezone-aware UTC, whatever the backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the catalogue stores timezone-aware times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every catalogue table."""


class Partner(Base):
    """An organisation sharing or receiving data (a police zone, STIB, the Port...)."""

    __tablename__ = "partner"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    zone_code: Mapped[int | None] = mapped_column(Integer)
    # hotlist policy of a zone: {"act_on": [0, 1], "ignore": [3, 4], "own_list_only": [2]}; None = default
    hit_policy: Mapped[dict[str, list[int]] | None] = mapped_column(JSON)
    retentions: Mapped[list[Retention]] = relationship(back_populates="partner", cascade="all, delete-orphan")


class Retention(Base):
    """How long a partner keeps one kind of data unless a hold keeps it longer."""

    __tablename__ = "retention"
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True)
    data_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    partner: Mapped[Partner] = relationship(back_populates="retentions")
    __table_args__ = (CheckConstraint("days > 0", name="retention_days_positive"),)


class User(Base):
    """A person with one role, working for one partner."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    partner: Mapped[Partner] = relationship()


class Camera(Base):
    """A camera owned by a partner; ANPR cameras produce plate reads, the others footage."""

    __tablename__ = "camera"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    partner: Mapped[Partner] = relationship()


class Agreement(Base):
    """A sharing agreement: owner lets recipient see some data kinds for some purposes."""

    __tablename__ = "agreement"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    data_kinds: Mapped[list[str]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    camera_scope: Mapped[list[str] | None] = mapped_column(JSON)  # None: every camera of the owner
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authorisation_ref: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[Partner] = relationship(foreign_keys=[owner_id])
    recipient: Mapped[Partner] = relationship(foreign_keys=[recipient_id])


class Case(Base):
    """An investigation (or a training case) whose members may read data for its purpose."""

    __tablename__ = "investigation_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    is_training: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    members: Mapped[list[CaseMember]] = relationship(cascade="all, delete-orphan")
    holds: Mapped[list[Hold]] = relationship(cascade="all, delete-orphan")


class CaseMember(Base):
    """A user allowed to work on a case."""

    __tablename__ = "case_member"
    case_id: Mapped[int] = mapped_column(ForeignKey("investigation_case.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)


class Hold(Base):
    """A legal hold (seizure): keeps a camera's data in a window beyond retention, for one case."""

    __tablename__ = "hold"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("investigation_case.id", ondelete="CASCADE"))
    camera_id: Mapped[str] = mapped_column(ForeignKey("camera.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_hold_camera", "camera_id", "start"),)


class FootageSegment(Base):
    """One video file of one camera, with its time span, hash and keyframe index."""

    __tablename__ = "footage_segment"
    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("camera.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    fps: Mapped[float] = mapped_column(Float)
    codec: Mapped[str] = mapped_column(String(32))
    container: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frame_count: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    keyframes: Mapped[list[float]] = mapped_column(JSON)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_footage_camera_start", "camera_id", "start"),)


class Sighting(Base):
    """One passage of one plate at one camera: the reads that describe it collapse into it."""

    __tablename__ = "sighting"
    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("camera.id"))
    plate: Mapped[str] = mapped_column(String(32))
    first_time: Mapped[datetime] = mapped_column(UTCDateTime)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime)
    n_reads: Mapped[int] = mapped_column(Integer, default=1)
    confidence: Mapped[float | None] = mapped_column(Float)
    country: Mapped[str | None] = mapped_column(String(8))
    direction: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (Index("ix_sighting_plate_time", "plate", "first_time"),
                      Index("ix_sighting_camera_time", "camera_id", "first_time"),
                      Index("ix_sighting_last_time", "last_time"))   # late reads find their passage (SQLite; 0004)


class PlateRead(Base):
    """One raw ANPR read as delivered by a feed (idempotent on source and read id)."""

    __tablename__ = "plate_read"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_read_id: Mapped[str] = mapped_column(String(128))
    camera_id: Mapped[str] = mapped_column(ForeignKey("camera.id"))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    plate_raw: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(8))
    confidence: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(16))
    lane: Mapped[int | None] = mapped_column(Integer)
    image_ref: Mapped[str | None] = mapped_column(Text)
    sighting_id: Mapped[int | None] = mapped_column(ForeignKey("sighting.id"))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("source", "source_read_id", name="uq_plate_read_source"),
                      Index("ix_plate_read_plate_time", "plate", "time"),
                      Index("ix_plate_read_camera_time", "camera_id", "time"),
                      Index("ix_plate_read_sighting", "sighting_id"))


class Hotlist(Base):
    """A list of wanted plates owned by a partner (national list or a zone's own)."""

    __tablename__ = "hotlist"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    scope: Mapped[str] = mapped_column(String(16))  # national | zone
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entries: Mapped[list[HotlistEntry]] = relationship(cascade="all, delete-orphan")


class HotlistEntry(Base):
    """A wanted plate with its priority (0 most urgent, 4 least)."""

    __tablename__ = "hotlist_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    hotlist_id: Mapped[int] = mapped_column(ForeignKey("hotlist.id", ondelete="CASCADE"))
    plate: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (CheckConstraint("priority BETWEEN 0 AND 4", name="hotlist_priority_range"),
                      Index("ix_hotlist_entry_plate", "plate"),
                      Index("ix_hotlist_entry_hotlist_id", "hotlist_id"))   # migration 0008


class CatalogueCounter(Base):
    """A number the catalogue keeps so that nobody counts rows (migration 0005).

    ``sightings``: the newest sighting id loaded, bumped by ingest in each
    batch's transaction (the plate index's version); ``rules``: raised by a
    trigger at every change of the access rule's tables (migration 0006).
    """

    __tablename__ = "catalogue_counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Hit(Base):
    """A sighting whose plate matched a hotlist entry."""

    __tablename__ = "hit"
    id: Mapped[int] = mapped_column(primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sighting.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("hotlist_entry.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("sighting_id", "entry_id", name="uq_hit_sighting_entry"),
                      Index("ix_hit_entry_id", "entry_id"))   # migration 0008


class CaseBookmark(Base):
    """A bookmark on a case (a frame, a sighting, a note) or a saved search, shared with the case's members.

    ``id`` is random and goes into links; opening one applies the case rule (workbench.access.policy).
    """

    __tablename__ = "case_bookmark"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("investigation_case.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    app: Mapped[str | None] = mapped_column(String(64))       # the app that reopens it
    camera_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    plate: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    query: Mapped[dict[str, Any]] = mapped_column(JSON)        # a saved search's parameters
    __table_args__ = (CheckConstraint("kind IN ('frame', 'sighting', 'note', 'search')", name="bookmark_kind"),
                      Index("ix_case_bookmark_case", "case_id"))


class AuditEvent(Base):
    """One audited action; ``hash`` chains it to the event before (see workbench.access.audit)."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    user_name: Mapped[str | None] = mapped_column(String(100))
    partner_code: Mapped[str | None] = mapped_column(String(32))
    case_reference: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | error
    reason: Mapped[str | None] = mapped_column(Text)
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)
    result_count: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_audit_user_time", "user_name", "time"),
                      Index("ix_audit_case", "case_reference"))


class AuditHead(Base):
    """The last event of the chain: one row, locked while an event is appended."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
