"""The organisation's support contact as the pages show it (from the deployed configuration)."""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication

from app.core.config.orgsettings import SupportSettings


def support_html(support: SupportSettings) -> str:
    """ "Your helpdesk: …" with mail, telephone and web links; empty when none is configured."""
    if not support.is_set:
        return ""
    parts: list[str] = []
    if support.email:
        address = html.escape(support.email)
        parts.append(f'<a href="mailto:{address}">{address}</a>')
    if support.phone:
        phone = html.escape(support.phone)
        parts.append(f'<a href="tel:{phone.replace(" ", "")}">{phone}</a>')
    if support.url:
        url = html.escape(support.url)
        parts.append(f'<a href="{url}">{url}</a>')
    name = html.escape(support.name or QCoreApplication.translate("Support", "your helpdesk"))
    text = QCoreApplication.translate("Support", "Need help? Contact %1: %2")
    return text.replace("%1", name).replace("%2", " · ".join(parts))
