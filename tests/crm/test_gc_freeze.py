import gc

from django.apps import apps
from django.core.signals import request_finished
from django.urls import reverse

from crm.apps import _FREEZE_UID, freeze_startup_objects


def test_first_request_freezes_the_long_lived_objects_once(client):
    gc.unfreeze()
    request_finished.connect(freeze_startup_objects, dispatch_uid=_FREEZE_UID)
    try:
        assert gc.get_freeze_count() == 0
        client.get(reverse("login"))
        assert gc.get_freeze_count() > 1000
        # the handler took itself off: later requests do not freeze what they allocate
        assert request_finished.disconnect(dispatch_uid=_FREEZE_UID) is False
    finally:
        request_finished.disconnect(dispatch_uid=_FREEZE_UID)
        gc.unfreeze()


def test_web_processes_turn_it_on_and_tests_do_not(settings):
    config = apps.get_app_config("crm")
    settings.FREEZE_GC_AFTER_FIRST_REQUEST = False
    config.ready()
    assert request_finished.disconnect(dispatch_uid=_FREEZE_UID) is False
    settings.FREEZE_GC_AFTER_FIRST_REQUEST = True
    config.ready()
    assert request_finished.disconnect(dispatch_uid=_FREEZE_UID) is True
