"""QR codes of join links, drawn server-side as SVG with segno.

A code's SVG depends only on the link it encodes, so it is safe to cache: the same
code on the same origin always draws the same picture.
"""

from __future__ import annotations

import io

import segno


def join_link(origin: str, code: str, *, page: str = "p") -> str:
    """The audience page of a poll (`p`) or a session (`s`): what the QR code and the
    host page show."""
    return f"{origin.rstrip('/')}/{page}/{code}"


def qr_svg(data: str) -> bytes:
    """`data` as a scalable SVG QR code (no fixed size; dark on a light quiet zone)."""
    qr = segno.make_qr(data, error="m")
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        border=4,
        xmldecl=False,
        omitsize=True,
        dark="#000",
        light="#fff",
        title=data,
    )
    return out.getvalue()
