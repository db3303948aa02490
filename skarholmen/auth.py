"""The login backend: Django's ModelBackend, with what every page asks about the user read in
the same query as the user."""

import functools

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group
from django.db import connection


class ProfilBackend(ModelBackend):
    """Every request loads its user, and most pages then ask for the profile's avdelning and the
    user's roles to know which cases the user may see. The profile is joined to the user row,
    and on PostgreSQL the role names come along as an array (arenden.models.roller reads them):
    two queries fewer on every request.

    On PostgreSQL that query is written out once per process (`_anvandarfraga`) rather than
    built by the ORM on every request: building and compiling it cost the app more than
    twice what the database takes to answer it, some 0.8 ms of every request."""

    def get_all_permissions(self, user_obj, obj=None):
        """The user's permissions, their own and their roles', in one query written once per
        process (`_behorighetsfraga`). ModelBackend builds two ORM queries for them, and the
        officers' pages and every admin page ask: building them cost the app more than the
        database takes to answer. A superuser has every permission, as ModelBackend says."""
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_behorighetsfraga(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        return user_obj._perm_cache

    def get_user(self, user_id):
        if connection.vendor == "postgresql":
            user = _las_anvandare(user_id)
        else:
            user = get_user_model()._default_manager.select_related("profil").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class InloggningsForm(AuthenticationForm):
    """The officers' login form, whose page shows each field's refusal as well as the form's: a
    form sent without a password came back without a word. The messages name the field, as the
    page's own text does, and say nothing of whether the user name exists."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].error_messages["required"] = "Ange ditt användarnamn."
        self.fields["password"].error_messages["required"] = "Ange ditt lösenord."


@functools.cache
def _anvandarfraga():
    """The user, their profile (if any) and their role names in one row, from the models'
    metadata: (sql, the user's attnames, the profile's attnames)."""
    User, Profil = get_user_model(), apps.get_model("arenden", "Profil")
    quote = connection.ops.quote_name
    user_fields, profil_fields = User._meta.concrete_fields, Profil._meta.concrete_fields
    groups = User._meta.get_field("groups")
    group, through = Group._meta, groups.remote_field.through._meta
    roller = (
        f"ARRAY(SELECT g.{quote(group.get_field('name').column)} FROM {quote(group.db_table)} g "
        f"JOIN {quote(through.db_table)} ug ON ug.{quote(groups.m2m_reverse_name())} = g.{quote(group.pk.column)} "
        f"WHERE ug.{quote(groups.m2m_column_name())} = u.{quote(User._meta.pk.column)})"
    )
    kolumner = [f"u.{quote(f.column)}" for f in user_fields] + [f"p.{quote(f.column)}" for f in profil_fields]
    sql = (
        f"SELECT {', '.join(kolumner)}, {roller} FROM {quote(User._meta.db_table)} u "
        f"LEFT JOIN {quote(Profil._meta.db_table)} p "
        f"ON p.{quote(Profil._meta.get_field('user').column)} = u.{quote(User._meta.pk.column)} "
        f"WHERE u.{quote(User._meta.pk.column)} = %s"
    )
    return sql, [f.attname for f in user_fields], [f.attname for f in profil_fields]


@functools.cache
def _behorighetsfraga():
    """The (app label, codename) of every permission a user holds, by name or through a role,
    from the models' metadata; the user's id is its two parameters."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    User = get_user_model()
    quote = connection.ops.quote_name
    perm, ct = Permission._meta, ContentType._meta
    egna = User._meta.get_field("user_permissions").remote_field.through._meta
    grupper = User._meta.get_field("groups").remote_field.through._meta
    gruppens = Group._meta.get_field("permissions").remote_field.through._meta
    return (
        f"SELECT ct.{quote(ct.get_field('app_label').column)}, p.{quote(perm.get_field('codename').column)} "
        f"FROM {quote(perm.db_table)} p JOIN {quote(ct.db_table)} ct "
        f"ON ct.{quote(ct.pk.column)} = p.{quote(perm.get_field('content_type').column)} "
        f"WHERE p.{quote(perm.pk.column)} IN ("
        f"SELECT e.{quote(egna.get_field('permission').column)} FROM {quote(egna.db_table)} e "
        f"WHERE e.{quote(egna.get_field('user').column)} = %s) "
        f"OR p.{quote(perm.pk.column)} IN ("
        f"SELECT gp.{quote(gruppens.get_field('permission').column)} FROM {quote(gruppens.db_table)} gp "
        f"JOIN {quote(grupper.db_table)} ug ON ug.{quote(grupper.get_field('group').column)} = "
        f"gp.{quote(gruppens.get_field('group').column)} WHERE ug.{quote(grupper.get_field('user').column)} = %s)"
    )


def _las_anvandare(user_id):
    """The user as `select_related("profil")` would give it, with `rollnamn`; None if no such
    user. PostgreSQL returns every column in its Python type, so no converters are needed."""
    sql, user_falt, profil_falt = _anvandarfraga()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        rad = cursor.fetchone()
    if rad is None:
        return None
    User, Profil = get_user_model(), apps.get_model("arenden", "Profil")
    antal = len(user_falt)
    user = User.from_db(connection.alias, user_falt, rad[:antal])
    profil_rad = rad[antal : antal + len(profil_falt)]
    profil = None
    if profil_rad[0] is not None:
        profil = Profil.from_db(connection.alias, profil_falt, profil_rad)
        Profil._meta.get_field("user").set_cached_value(profil, user)
    # As select_related caches it: a user without a profile raises RelatedObjectDoesNotExist
    # on `user.profil` without another query.
    Profil._meta.get_field("user").remote_field.set_cached_value(user, profil)
    user.rollnamn = rad[-1]
    return user
