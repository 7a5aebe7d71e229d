"""Group pages: list with member counts, add, rename, delete (contacts stay).

A group's members are shown by the contact list filtered by that group.
"""

from contacts.forms import GroupForm
from contacts.models import Group
from contacts.views.tags import NamedDeleteView, NamedEditView, NamedListView


class GroupListView(NamedListView):
    model = Group
    form_class = GroupForm
    template_name = "contacts/group_list.html"


class GroupEditView(NamedEditView):
    model = Group
    form_class = GroupForm
    list_url = "contacts:group_list"


class GroupDeleteView(NamedDeleteView):
    model = Group
    list_url = "contacts:group_list"
