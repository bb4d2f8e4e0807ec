"""The models datamodel-code-generator makes from ``openapi/tycho.yaml``: never edited by hand.

This folder is ``generated/tycho_client_generated``, seen inside the package as
``tycho_client._generated`` (a symbolic link), so that the wheel ships one top-level package.
"""
