"""Files attached to records (photos, scans, PDFs). The row syncs like any record; the
bytes are stored once per content under the instance folder, addressed by SHA-256."""
from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.core.files import safe_filename
from app.models.base import Base, Synced


class Attachment(Synced, Base):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_record", "record_type", "record_id"),)

    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))  # photo, scan, document
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)  # from the photo's EXIF, if any
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    caption: Mapped[str] = mapped_column(String(200), default="")

    @validates("filename")
    def _keep_safe_name(self, _key, value):
        """However the row is written (a form, sync, a script), only a safe base name of
        the sent file name is kept: never a path, a control character or a huge name."""
        return safe_filename(value)

    def __str__(self) -> str:
        return self.filename or self.sha256[:12]
