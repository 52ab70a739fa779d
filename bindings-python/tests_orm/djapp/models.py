"""The Django test models (app label djapp)."""

from django.db import models

from keycustody.django import EncryptedTextField
from orm_common import KEYS


class Tenant(models.Model):
    slug = models.CharField(max_length=64, primary_key=True)

    class Meta:
        app_label = "djapp"
        db_table = "dj_tenants"


class Account(models.Model):
    tenant_id = models.CharField(max_length=64, null=True, blank=True)
    api_key = EncryptedTextField(owner_field="tenant_id", keyring=KEYS, null=True)
    webhook_secret = EncryptedTextField(owner_field="tenant_id", keyring=KEYS, null=True)

    class Meta:
        app_label = "djapp"
        db_table = "dj_accounts"


class MigratingAccount(models.Model):
    """The same table, with api_key configured to seal legacy plaintext on read."""

    tenant_id = models.CharField(max_length=64, null=True, blank=True)
    api_key = EncryptedTextField(owner_field="tenant_id", keyring=KEYS, null=True, migrate_plaintext=True)
    webhook_secret = EncryptedTextField(owner_field="tenant_id", keyring=KEYS, null=True)

    class Meta:
        app_label = "djapp"
        db_table = "dj_accounts"
        managed = False


class Project(models.Model):
    """The owner is a foreign key: the envelope is bound to its value (tenant_id)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True)
    token = EncryptedTextField(owner_field="tenant", keyring=KEYS, null=True)

    class Meta:
        app_label = "djapp"
        db_table = "dj_projects"
