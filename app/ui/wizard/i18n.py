"""The window's language: English or Japanese, following the system unless the person chose
one in the settings (kept in QSettings). Qt's own texts and the program's (``tr``) come from
translation files: ``resources/translations/mailsetup_<lang>.qm``, built from the sources
(``make translations``: pyside6-lupdate, then pyside6-lrelease)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from app.core.resources import resource_path
from app.core.texts import LANGUAGES, Language, language_from_environment, normalise_language

SETTING = "language"
SYSTEM = "system"
_installed: list[QTranslator] = []


def translation_file(language: Language) -> str:
    return str(resource_path("translations", f"mailsetup_{language}.qm"))


def chosen_language(settings: QSettings | None = None) -> str:
    """``"system"``, ``"en"`` or ``"ja"``: what the settings page shows as chosen."""
    value = str((settings or QSettings()).value(SETTING, SYSTEM) or SYSTEM)
    return value if value in (SYSTEM, *LANGUAGES) else SYSTEM


def system_language() -> Language:
    """The system's language (Qt's reading: Windows and macOS settings, POSIX variables)."""
    for name in QLocale.system().uiLanguages():
        language = normalise_language(name)
        if language in LANGUAGES:
            return language
    return language_from_environment()


def effective_language(settings: QSettings | None = None) -> Language:
    chosen = chosen_language(settings)
    return system_language() if chosen == SYSTEM else normalise_language(chosen)


def remember_language(choice: str, settings: QSettings | None = None) -> None:
    (settings or QSettings()).setValue(SETTING, choice if choice in LANGUAGES else SYSTEM)


def install(language: Language) -> bool:
    """Make ``language`` the application's: removes the translators installed before. English
    needs none (the sources are English). True when the program's own file loaded."""
    application = QCoreApplication.instance()
    if application is None:
        return False
    for translator in _installed:
        application.removeTranslator(translator)
    _installed.clear()
    if language == "en":
        return True
    own = QTranslator(application)
    loaded = own.load(translation_file(language))
    if loaded:
        application.installTranslator(own)
        _installed.append(own)
    qt = QTranslator(application)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt.load(QLocale(language), "qtbase", "_", folder):
        application.installTranslator(qt)
        _installed.append(qt)
    return loaded
