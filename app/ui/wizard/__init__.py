"""The wizard: one question per page over :mod:`app.core.flow` (which routes), its pages in
:mod:`app.ui.wizard.pages`, the window around them in :mod:`app.ui.wizard.window`."""
