"""The tables: stored messages, each room's `seq` counter, the bans in force and the
moderation log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Room(Base):
    """A room's message counter: locking this row is what makes `seq` gap-free."""

    __tablename__ = "rooms"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Message(Base):
    """One stored chat message; `seq` is its place in its room."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("room", "seq", name="uq_messages_room_seq"),
        # A resend with the same clientId from the same user in the same room is one message.
        UniqueConstraint("room", "username", "client_id", name="uq_messages_client_id"),
        Index("ix_messages_room_id", "room", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    room: Mapped[str] = mapped_column(String(255), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    username: Mapped[str] = mapped_column(String(255), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    client_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Ban(Base):
    """A name or a client address kept out of one room (or every room, `room` NULL)
    until `expires_at` (UTC). Exactly one of `name` and `address` is set; `address`
    is a client key (limits.client_key: an IPv4 address or an IPv6 /64)."""

    __tablename__ = "bans"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    room: Mapped[str | None] = mapped_column(String(255), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class ModerationAction(Base):
    """One thing the owner did (a delete, a ban, a room's settings): the moderation log."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)  # what it was done to, as JSON
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class RoomSetting(Base):
    """What the owner set for a room: locked (only the owner writes), slow mode.

    A room without a row has the defaults: open, no slow mode."""

    __tablename__ = "room_settings"

    room: Mapped[str] = mapped_column(String(255), primary_key=True)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False)
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, nullable=False)


class OwnerRead(Base):
    """How far the owner has read a room: messages with a higher `seq` are unread."""

    __tablename__ = "owner_reads"

    room: Mapped[str] = mapped_column(String(255), primary_key=True)
    read_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
