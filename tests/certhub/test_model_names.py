"""Every model of the product names its plural itself: Django's default (``name + "s"``) says "deliverys"."""

from __future__ import annotations

import re

import pytest
from django.apps import apps

PRODUCT_APPS = ("certhub", "certifications", "events", "notifications", "totals")
PRODUCT_MODELS = [model for app in PRODUCT_APPS for model in apps.get_app_config(app).get_models()]


@pytest.mark.parametrize("model", PRODUCT_MODELS, ids=lambda model: model._meta.label)
def test_every_model_says_its_plural_and_it_is_not_a_consonant_y_plus_s(model):
    meta = model._meta
    assert "verbose_name_plural" in meta.original_attrs, f"{meta.label} needs Meta.verbose_name_plural"
    assert not re.search(r"[^aeiou]ys$", str(meta.verbose_name_plural)), meta.verbose_name_plural


def test_every_app_of_the_product_is_checked():
    assert {model._meta.app_label for model in PRODUCT_MODELS} == set(PRODUCT_APPS)
    assert len(PRODUCT_MODELS) >= 15
