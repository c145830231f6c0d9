"""What was set up, kept and handed on: saved accounts, their secrets, and exports for mail apps.

- :mod:`app.core.profiles.store`: the saved accounts (``accounts.json`` in the user's
  configuration folder, no secrets; atomic writes, a lock between processes, unreadable files
  kept aside), :class:`~app.core.profiles.store.SavedAccount` and its states;
- :mod:`app.core.profiles.secrets`: passwords and app passwords in the operating system's
  keyring (never a file), and forgetting an account's secrets and OAuth tokens;
- one module per mail app for the exports.

Nothing is imported here, so that importing one exporter does not load the others.
"""
