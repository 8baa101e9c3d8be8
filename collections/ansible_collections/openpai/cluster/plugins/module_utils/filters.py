# -*- coding: utf-8 -*-
# Copyright: openpai-ansible contributors
# MIT License (see LICENSE)
"""What every filter plugin of the collection shares: the model's errors as filter errors."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.openpai.cluster.plugins.module_utils.model import ModelError


def model_errors_as_filter_errors(func):
    """``func`` raising AnsibleFilterError (one clear message, no traceback) where it raises ModelError."""
    def inner(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ModelError as exc:
            raise AnsibleFilterError(str(exc)) from None
    inner.__name__ = func.__name__
    inner.__doc__ = func.__doc__
    return inner
