"""Edit the settings manually: every server field, checked as the person types.

Incoming (IMAP or POP3: server, port, encryption, user name), outgoing (SMTP; an empty server
means none), calendars (CalDAV) and contacts (CardDAV) addresses, and how to sign in. Problems
appear beside their field; blocking ones disable Continue, warnings (no outgoing server, no
encryption) are shown without stopping the person. Changing the protocol or the encryption
changes the port to its usual value, unless the person typed a port of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.flow import (
    Answer,
    ManualEntered,
    Problem,
    ServerFields,
    Step,
    WizardState,
    build_config,
    fields_from_config,
)
from app.core.model import AuthKind, Protocol, Security
from app.ui.wizard.page import PageContext, WizardPage, problem_label, show_problem
from app.ui.wizard.page import wrapped_to_fit as wrapped

#: Sign-in kinds a person may pick by hand. Others (Google sign-in, Exchange hybrid, none) are
#: listed only when the settings being edited already use them.
PICKABLE_AUTH: tuple[AuthKind, ...] = (
    AuthKind.PASSWORD,
    AuthKind.APP_PASSWORD,
    AuthKind.OAUTH2_MICROSOFT,
)
_SIDES = ("incoming", "outgoing")


def usual_ports(protocols: Sequence[Protocol]) -> frozenset[str]:
    """Every standard port of ``protocols`` (any encryption), as text; SMTP adds 25."""
    ports = {str(p.default_port(s)) for p in protocols for s in Security}
    if Protocol.SMTP in protocols:
        ports.add("25")
    return frozenset(ports)


_USUAL = {
    "incoming": usual_ports((Protocol.IMAP, Protocol.POP3)),
    "outgoing": usual_ports((Protocol.SMTP,)),
}


class ManualPage(WizardPage):
    step = Step.MANUAL

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._filling = False
        self._port_typed = dict.fromkeys(_SIDES, False)
        self.problems: tuple[Problem, ...] = ()

        self.intro = wrapped(
            self.tr(
                "Check or change the settings your provider gave you. Problems are shown beside "
                "each setting as you type."
            ),
            self,
            name="intro",
        )
        self.layout_.addWidget(self.intro)
        self.general_problem = problem_label(self, name="generalProblem")
        self.layout_.addWidget(self.general_problem)
        self.labels: dict[str, QLabel] = {}

        # Incoming.
        box = self._group(self.tr("Incoming mail"), "incomingBox")
        form = self._form(box)
        self.incoming_protocol = QComboBox(box)
        self.incoming_protocol.setObjectName("incomingProtocol")
        self.incoming_protocol.setAccessibleName(self.tr("Incoming mail protocol"))
        self.incoming_protocol.view().setAccessibleName(self.tr("Incoming mail protocol"))
        self.incoming_protocol.addItem(self.tr("IMAP (mail stays on the server)"), "imap")
        self.incoming_protocol.addItem(self.tr("POP3 (mail is downloaded)"), "pop3")
        self._row(form, self.tr("&Protocol:"), self.incoming_protocol, "incoming.protocol")
        self.incoming_host = self._line(
            box, "incomingHost", self.tr("Incoming mail server"), self.tr("imap.example.com")
        )
        self._row(form, self.tr("&Incoming server:"), self.incoming_host, "incoming.host")
        self.incoming_port = self._port(box, "incomingPort", self.tr("Incoming mail port"))
        self._row(form, self.tr("Po&rt:"), self.incoming_port, "incoming.port")
        self.incoming_security = self._security(
            box, "incomingSecurity", self.tr("Incoming mail encryption")
        )
        self._row(form, self.tr("&Encryption:"), self.incoming_security, "incoming.security")
        self.incoming_username = self._line(
            box,
            "incomingUsername",
            self.tr("Incoming mail user name"),
            self.tr("Usually your address"),
        )
        self._row(form, self.tr("&User name:"), self.incoming_username, "incoming.username")

        # Outgoing.
        box = self._group(self.tr("Outgoing mail (SMTP)"), "outgoingBox")
        form = self._form(box)
        self.outgoing_host = self._line(
            box,
            "outgoingHost",
            self.tr("Outgoing mail server"),
            self.tr("Empty: no outgoing server"),
        )
        self._row(form, self.tr("&Outgoing server:"), self.outgoing_host, "outgoing.host")
        self.outgoing_port = self._port(box, "outgoingPort", self.tr("Outgoing mail port"))
        self._row(form, self.tr("Por&t:"), self.outgoing_port, "outgoing.port")
        self.outgoing_security = self._security(
            box, "outgoingSecurity", self.tr("Outgoing mail encryption")
        )
        self._row(form, self.tr("E&ncryption:"), self.outgoing_security, "outgoing.security")
        self.outgoing_username = self._line(
            box,
            "outgoingUsername",
            self.tr("Outgoing mail user name"),
            self.tr("Usually your address"),
        )
        self._row(form, self.tr("U&ser name:"), self.outgoing_username, "outgoing.username")

        # Calendars and contacts.
        box = self._group(self.tr("Calendars and contacts"), "davBox")
        form = self._form(box)
        self.caldav = self._line(
            box, "caldav", self.tr("Calendars (CalDAV) address"), self.tr("Empty: none")
        )
        self._row(form, self.tr("&Calendars (CalDAV):"), self.caldav, "caldav")
        self.carddav = self._line(
            box, "carddav", self.tr("Contacts (CardDAV) address"), self.tr("Empty: none")
        )
        self._row(form, self.tr("Contacts (Car&dDAV):"), self.carddav, "carddav")

        # Sign-in.
        box = self._group(self.tr("Sign-in"), "authBox")
        form = self._form(box)
        self.auth = QComboBox(box)
        self.auth.setObjectName("auth")
        self.auth.setAccessibleName(self.tr("How to sign in"))
        self.auth.view().setAccessibleName(self.tr("How to sign in"))
        self._row(form, self.tr("Si&gn in with:"), self.auth, "auth")
        self._fill_auth(AuthKind.PASSWORD.value)

        self.layout_.addStretch(1)
        self.setFocusProxy(self.incoming_host)

        for edit in (
            self.incoming_host,
            self.incoming_port,
            self.incoming_username,
            self.outgoing_host,
            self.outgoing_port,
            self.outgoing_username,
            self.caldav,
            self.carddav,
        ):
            edit.textChanged.connect(self._changed)
        self.incoming_port.textEdited.connect(lambda _t: self._typed_port("incoming"))
        self.outgoing_port.textEdited.connect(lambda _t: self._typed_port("outgoing"))
        self.incoming_protocol.currentIndexChanged.connect(
            lambda _i: self._kind_changed("incoming")
        )
        self.incoming_security.currentIndexChanged.connect(
            lambda _i: self._kind_changed("incoming")
        )
        self.outgoing_security.currentIndexChanged.connect(
            lambda _i: self._kind_changed("outgoing")
        )
        self.auth.currentIndexChanged.connect(self._changed)

    # -- building ------------------------------------------------------------------------------

    def _group(self, title: str, name: str) -> QGroupBox:
        box = QGroupBox(title, self)
        box.setObjectName(name)
        self.layout_.addWidget(box)
        return box

    def _form(self, box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        return form

    def _row(self, form: QFormLayout, title: str, field: QWidget, problem_field: str) -> None:
        """A labelled field with its problem line right under it (hidden while none)."""
        parent = field.parentWidget()
        caption = QLabel(title, parent)
        caption.setBuddy(field)
        label = problem_label(parent, name=f"problem-{problem_field}")
        label.setMinimumHeight(1)  # laid out by height for width (see wrapped)
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(label)
        form.addRow(caption, column)
        self.labels[problem_field] = label

    def _line(self, parent: QWidget, name: str, accessible: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(parent)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setPlaceholderText(placeholder)
        edit.setInputMethodHints(
            Qt.InputMethodHint.ImhNoAutoUppercase | Qt.InputMethodHint.ImhNoPredictiveText
        )
        return edit

    def _port(self, parent: QWidget, name: str, accessible: str) -> QLineEdit:
        edit = self._line(parent, name, accessible, "")
        edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        edit.setMaxLength(5)
        edit.setMaximumWidth(edit.fontMetrics().horizontalAdvance("0") * 10 + 24)
        return edit

    def _security(self, parent: QWidget, name: str, accessible: str) -> QComboBox:
        combo = QComboBox(parent)
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.view().setAccessibleName(accessible)
        combo.addItem(self.tr("SSL/TLS"), Security.TLS.value)
        combo.addItem(self.tr("STARTTLS"), Security.STARTTLS.value)
        combo.addItem(self.tr("None (not encrypted, not safe)"), Security.PLAIN.value)
        return combo

    def _auth_label(self, auth: AuthKind) -> str:
        return {
            AuthKind.PASSWORD: self.tr("Password"),
            AuthKind.APP_PASSWORD: self.tr("App password"),
            AuthKind.OAUTH2_MICROSOFT: self.tr("Microsoft sign-in"),
            AuthKind.OAUTH2_GOOGLE: self.tr("Google sign-in"),
            AuthKind.EXCHANGE_HYBRID: self.tr("Microsoft sign-in (Exchange hybrid)"),
            AuthKind.NONE: self.tr("No sign-in"),
        }[auth]

    def _fill_auth(self, value: str) -> None:
        """The pickable kinds, plus the one being edited when it is not pickable."""
        self.auth.blockSignals(True)
        self.auth.clear()
        kinds = list(PICKABLE_AUTH)
        try:
            current = AuthKind(value.strip().lower())
        except ValueError:
            current = AuthKind.PASSWORD
        if current not in kinds:
            kinds.append(current)
        for kind in kinds:
            self.auth.addItem(self._auth_label(kind), kind.value)
        self.auth.setCurrentIndex(kinds.index(current))
        self.auth.blockSignals(False)

    # -- the page ------------------------------------------------------------------------------

    def show_state(self, state: WizardState) -> None:
        super().show_state(state)
        previous = state.answer
        if isinstance(previous, ManualEntered):
            fields = previous.fields
        elif state.manual is not None:
            fields = state.manual
        else:
            fields = fields_from_config(state.config)
        self.set_fields(fields)

    def set_fields(self, fields: ServerFields) -> None:
        """Show ``fields`` (and check them)."""
        self._filling = True
        try:
            _choose(self.incoming_protocol, fields.incoming_protocol)
            self.incoming_host.setText(fields.incoming_host)
            self.incoming_port.setText(fields.incoming_port)
            _choose(self.incoming_security, fields.incoming_security)
            self.incoming_username.setText(fields.incoming_username)
            self.outgoing_host.setText(fields.outgoing_host)
            self.outgoing_port.setText(fields.outgoing_port)
            _choose(self.outgoing_security, fields.outgoing_security)
            self.outgoing_username.setText(fields.outgoing_username)
            self.caldav.setText(fields.caldav)
            self.carddav.setText(fields.carddav)
            self._fill_auth(fields.auth)
        finally:
            self._filling = False
        self._port_typed = dict.fromkeys(_SIDES, False)
        self._validate()

    def fields(self) -> ServerFields:
        """The fields as the person left them."""
        return ServerFields(
            incoming_protocol=str(self.incoming_protocol.currentData()),
            incoming_host=self.incoming_host.text(),
            incoming_port=self.incoming_port.text(),
            incoming_security=str(self.incoming_security.currentData()),
            incoming_username=self.incoming_username.text(),
            outgoing_host=self.outgoing_host.text(),
            outgoing_port=self.outgoing_port.text(),
            outgoing_security=str(self.outgoing_security.currentData()),
            outgoing_username=self.outgoing_username.text(),
            caldav=self.caldav.text(),
            carddav=self.carddav.text(),
            auth=str(self.auth.currentData()),
        )

    def answer(self) -> Answer | None:
        if any(p.blocking for p in self.problems):
            return None
        return ManualEntered(self.fields())

    def show_problems(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown: dict[str, list[Problem]] = {}
        for problem in problems:
            key = problem.field if problem.field in self.labels else "general"
            shown.setdefault(key, []).append(problem)
        for key, label in (*self.labels.items(), ("general", self.general_problem)):
            found = shown.get(key, [])
            text = "\n".join(self.problem_text(p) for p in found)
            warning = bool(found) and all(not p.blocking for p in found)
            show_problem(label, text, warning=warning)
            if warning:
                label.setText("⚠ " + text)
        self.ready_changed.emit()

    # -- as the person types -------------------------------------------------------------------

    def _changed(self, *_args: object) -> None:
        if not self._filling:
            self._validate()

    def _validate(self) -> None:
        base = self.state.config if self.state is not None else None
        _config, problems = build_config(self.fields(), base)
        self.show_problems(problems)

    def _typed_port(self, side: str) -> None:
        self._port_typed[side] = True

    def _kind_changed(self, side: str) -> None:
        """The protocol or the encryption changed: the usual port follows, unless the person
        typed a port of their own."""
        if self._filling:
            return
        port = self.incoming_port if side == "incoming" else self.outgoing_port
        combo = self.incoming_security if side == "incoming" else self.outgoing_security
        current = port.text().strip()
        if not self._port_typed[side] and (not current or current in _USUAL[side]):
            protocol = (
                Protocol(str(self.incoming_protocol.currentData()))
                if side == "incoming"
                else Protocol.SMTP
            )
            port.setText(str(protocol.default_port(Security(str(combo.currentData())))))
        self._validate()


def _choose(combo: QComboBox, value: str) -> None:
    """Select the item whose data is ``value`` (case and spaces aside); the first otherwise."""
    index = combo.findData(value.strip().lower())
    combo.setCurrentIndex(max(index, 0))
