"""Tag and group pages share one shape: a list with counts and an add form, rename, delete (contacts stay)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from contacts import services
from contacts.audience import with_contact_counts
from contacts.forms import TagForm, apply_service_error
from contacts.models import Tag
from portal import htmx
from portal.roles import WRITE
from portal.views import AccountViewMixin


class NamedListView(AccountViewMixin, View):
    """List of tags or groups with contact counts; POST adds one (write capability)."""

    model = Tag
    form_class = TagForm
    template_name = "contacts/tag_list.html"

    def capability_for(self, request) -> str:
        return WRITE if request.method == "POST" else super().capability_for(request)

    def render_list(self, request, form, status=200):
        items = with_contact_counts(self.model.objects.filter(account=self.account)).order_by("name")
        query = (request.GET.get("q") or "").strip()
        if query:
            items = items.filter(name__icontains=query)
        context = {"items": items, "form": form, "q": query, "can_write": self.can(WRITE)}
        return htmx.render(request, self.template_name, context, status=status)

    def get(self, request):
        return self.render_list(request, self.form_class())

    def post(self, request):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                item = services.save_named(self.model, self.account, request.user, **form.cleaned_data)
            except (ValidationError, services.ContactConflict) as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{item}” added.")
                return redirect(request.path)
        return self.render_list(request, form, status=422)


class NamedEditView(AccountViewMixin, View):
    required_capability = WRITE
    model = Tag
    form_class = TagForm
    template_name = "contacts/named_form.html"
    list_url = "contacts:tag_list"

    def get_object(self, uid):
        return get_object_or_404(self.model, account=self.account, uid=uid)

    def context(self, item, form) -> dict:
        return {"object": item, "form": form, "kind": self.model._meta.verbose_name, "list_url": reverse(self.list_url)}

    def get(self, request, uid):
        item = self.get_object(uid)
        initial = {name: getattr(item, name) for name in self.form_class.base_fields}
        return htmx.render(request, self.template_name, self.context(item, self.form_class(initial=initial)))

    def post(self, request, uid):
        item = self.get_object(uid)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                services.save_named(self.model, self.account, request.user, instance=item, **form.cleaned_data)
            except (ValidationError, services.ContactConflict) as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{item}” saved.")
                return redirect(self.list_url)
        return htmx.render(request, self.template_name, self.context(item, form), status=422)


class NamedDeleteView(AccountViewMixin, View):
    required_capability = WRITE
    model = Tag
    list_url = "contacts:tag_list"

    def get(self, request, uid):
        item = get_object_or_404(self.model, account=self.account, uid=uid)
        context = {
            "object": item,
            "kind": self.model._meta.verbose_name,
            "consequence": "Its contacts are kept; only their membership is removed.",
            "cancel_url": reverse(self.list_url),
        }
        return htmx.render(request, "contacts/confirm_delete.html", context)

    def post(self, request, uid):
        item = get_object_or_404(self.model, account=self.account, uid=uid)
        services.delete_named(item, request.user)
        messages.success(
            request, f"{self.model._meta.verbose_name.capitalize()} “{item}” deleted; its contacts are kept."
        )
        return redirect(self.list_url)


class TagListView(NamedListView):
    pass


class TagEditView(NamedEditView):
    pass


class TagDeleteView(NamedDeleteView):
    pass
