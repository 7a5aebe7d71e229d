"""Contact pages: list (search, filters, sort, HTMX pagination), detail, create/edit/delete, bulk actions.

The list's Export buttons post to `portal.views_exports.StartExportView` (an export job with the list's filters)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View

from contacts import services
from contacts.filtersets import ContactFilterSet
from contacts.forms import BulkActionForm, ContactForm, IdentifierForm, apply_service_error
from contacts.models import Contact, Group, Identifier, Segment, Tag
from contacts.suppression import broadest_opt_outs
from portal import htmx
from portal.roles import WRITE
from portal.views import AccountViewMixin

PAGE_SIZE = 50
COUNT_CAP = 1_000
SORTS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "first_name": ("first_name", "last_name", "id"),
    "-first_name": ("-first_name", "-last_name", "-id"),
    "last_name": ("last_name", "first_name", "id"),
    "-last_name": ("-last_name", "-first_name", "-id"),
    "phone": ("phone",),
    "-phone": ("-phone",),
    "country": ("country", "-created_at", "-id"),
    "-country": ("-country", "-created_at", "-id"),
}
DEFAULT_SORT = "-created_at"


class CappedPaginator(Paginator):
    """Counts at most `COUNT_CAP` + 1 rows, so a page of a million-row list costs a bounded count.

    `capped` tells the template to show "More than 1,000"; pages stop at the cap (narrow the filters to go further).
    """

    @cached_property
    def count(self) -> int:
        found = self.object_list.order_by()[: COUNT_CAP + 1].count()
        self.capped = found > COUNT_CAP
        return min(found, COUNT_CAP)

    capped = False


def query_without(request, *names: str) -> str:
    """The request's query string without the given parameters (for pagination and sort links)."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def filtered_contacts(account, request, params=None):
    """(filterset, contacts of the account matching the contact filters in `params` or the query string)."""
    base = Contact.objects.filter(account=account)
    filterset = ContactFilterSet(params if params is not None else request.GET, queryset=base, request=request)
    return filterset, (filterset.qs if filterset.is_valid() else base.none())


def with_opt_out_state(account, contacts: list[Contact]) -> list[Contact]:
    """Set `opt_out_type` on each contact (one query for the whole page), read by the `opted_out` badge."""
    reasons = broadest_opt_outs(account, [contact.phone for contact in contacts])
    for contact in contacts:
        contact.opt_out_type = reasons.get(contact.phone)
    return contacts


class ContactListView(AccountViewMixin, View):
    template_name = "contacts/contact_list.html"

    def get(self, request):
        filterset, contacts = filtered_contacts(self.account, request)
        sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else DEFAULT_SORT
        ordered = contacts.order_by(*SORTS[sort]).prefetch_related("tags", "groups")
        page = CappedPaginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = with_opt_out_state(self.account, list(page.object_list))
        context = {
            "filterset": filterset,
            "page": page,
            "sort": sort,
            "query": query_without(request, "page"),
            "sort_query": query_without(request, "page", "sort"),
            "tags": Tag.objects.filter(account=self.account),
            "groups": Group.objects.filter(account=self.account),
            "segments": Segment.objects.filter(account=self.account),
            "can_write": self.can(WRITE),
            "bulk_actions": BulkActionForm.ACTIONS,
        }
        return htmx.render(request, self.template_name, context, partial="contact-rows")


class ContactDetailView(AccountViewMixin, View):
    template_name = "contacts/contact_detail.html"

    def get(self, request, uid):
        contact = get_object_or_404(
            Contact.objects.prefetch_related("tags", "groups", "identifiers"), account=self.account, uid=uid
        )
        context = {
            "contact": contact,
            "identifier_form": IdentifierForm(),
            "can_write": self.can(WRITE),
            "attributes": sorted(contact.attributes.items()) if isinstance(contact.attributes, dict) else [],
        }
        return htmx.render(request, self.template_name, context)


class ContactFormView(AccountViewMixin, View):
    """Create (no uid) or edit (uid) a contact."""

    required_capability = WRITE
    template_name = "contacts/contact_form.html"

    def contact(self, uid):
        if uid is None:
            return None
        return get_object_or_404(Contact.objects.prefetch_related("tags", "groups"), account=self.account, uid=uid)

    def get(self, request, uid=None):
        contact = self.contact(uid)
        initial = ContactForm.initial_for(contact) if contact else {}
        form = ContactForm(initial=initial, account=self.account)
        return htmx.render(request, self.template_name, {"form": form, "contact": contact})

    def post(self, request, uid=None):
        contact = self.contact(uid)
        form = ContactForm(request.POST, account=self.account)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            tags, groups = fields.pop("tags"), fields.pop("groups")
            try:
                if contact is None:
                    contact = services.create_contact(self.account, request.user, tags=tags, groups=groups, **fields)
                else:
                    services.update_contact(contact, request.user, tags=tags, groups=groups, **fields)
            except (ValidationError, services.ContactConflict) as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, f"Contact {contact} saved.")
                return redirect("contacts:contact_detail", uid=contact.uid)
        return htmx.render(request, self.template_name, {"form": form, "contact": contact}, status=422)


class ContactDeleteView(AccountViewMixin, View):
    required_capability = WRITE
    template_name = "contacts/confirm_delete.html"

    def get(self, request, uid):
        contact = get_object_or_404(Contact, account=self.account, uid=uid)
        context = {
            "object": contact,
            "kind": "contact",
            "consequence": "Its identifiers and its tag and group memberships are deleted with it.",
            "cancel_url": reverse("contacts:contact_detail", args=[contact.uid]),
        }
        return htmx.render(request, self.template_name, context)

    def post(self, request, uid):
        contact = get_object_or_404(Contact, account=self.account, uid=uid)
        services.delete_contact(contact, request.user)
        messages.success(request, f"Contact {contact} deleted.")
        return redirect("contacts:contact_list")


class IdentifierAddView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        contact = get_object_or_404(Contact, account=self.account, uid=uid)
        form = IdentifierForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a type and enter a value.")
        else:
            try:
                services.save_identifier(contact, request.user, **form.cleaned_data)
            except (ValidationError, services.ContactConflict) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, "Identifier added.")
        return redirect("contacts:contact_detail", uid=contact.uid)


class IdentifierDeleteView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid, iid):
        identifier = get_object_or_404(Identifier, account=self.account, contact__uid=uid, uid=iid)
        services.delete_identifier(identifier, request.user)
        messages.success(request, "Identifier removed.")
        return redirect("contacts:contact_detail", uid=uid)


class ContactBulkView(AccountViewMixin, View):
    """Bulk action on selected contacts or on all matching the filters; shows a confirmation step first."""

    required_capability = WRITE
    template_name = "contacts/contact_bulk_confirm.html"

    def post(self, request):
        form = BulkActionForm(request.POST, account=self.account)
        back = reverse("contacts:contact_list") + "?" + request.POST.get("query", "")
        if not form.is_valid():
            messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
            return redirect(back)
        data = form.cleaned_data
        contacts = self.selection(request, data)
        if request.POST.get("confirm") != "yes":
            context = {
                "data": data,
                "action_label": dict(BulkActionForm.ACTIONS)[data["action"]],
                "count": contacts.count(),
                "ids": data["ids"],
                "back": back,
            }
            return htmx.render(request, self.template_name, context)
        message = self.run(request, data, contacts)
        messages.success(request, message)
        return redirect(back)

    def selection(self, request, data):
        if data["scope"] == "all":
            return filtered_contacts(self.account, request, QueryDict(data.get("query") or ""))[1]
        return Contact.objects.filter(account=self.account, uid__in=data["ids"])

    def run(self, request, data, contacts) -> str:
        account, user, action = self.account, request.user, data["action"]
        if action == "tag":
            count = services.add_tags(account, user, contacts, services.tags_by_name(account, [data["tag"]]))
            return f"Tag “{data['tag']}” added to {count} contacts."
        if action == "untag":
            count = services.remove_tags(
                account, user, contacts, services.tags_by_name(account, [data["tag"]], create=False)
            )
            return f"Tag “{data['tag']}” removed from {count} contacts."
        if action == "group_add":
            count = services.add_to_group(account, user, contacts, data["group"])
            return f"{count} contacts added to {data['group']}."
        if action == "group_remove":
            count = services.remove_from_group(account, user, contacts, data["group"])
            return f"{count} contacts removed from {data['group']}."
        count = services.delete_contacts(account, user, contacts)
        return f"{count} contacts deleted."
