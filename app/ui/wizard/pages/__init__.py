"""The wizard's pages, one module each. A page renders a :class:`~app.core.flow.WizardState`
and gives an answer; it never decides where the wizard goes next."""
