"""Names of a contact's data fields: what services accept and what message variables can be filled from."""

CONTACT_DATA_FIELDS = (
    "identity",
    "phone",
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "postal_code",
    "company",
    "attributes",
)
