from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import CustomerFactory, UserFactory

# The smallest real files of each kind: the check reads their magic bytes.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def xena(manager_a):
    user = UserFactory(username="xena", role="customer", email="xena@example.com")
    return CustomerFactory(
        user=user, name="Xena Xu", email="xena@example.com", account_manager=manager_a
    )


@pytest.fixture
def yuri(manager_b):
    user = UserFactory(username="yuri", role="customer", email="yuri@example.com")
    return CustomerFactory(
        user=user, name="Yuri Yates", email="yuri@example.com", account_manager=manager_b
    )


@pytest.fixture
def orphan(db):
    """A customer with no account manager: their requests go to the queue."""
    user = UserFactory(username="olga", role="customer", email="olga@example.com")
    return CustomerFactory(user=user, name="Olga Orphan", email="olga@example.com")
