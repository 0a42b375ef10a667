"""Who may use which page and API operation: the declared access policy (issue 10 §1).

``test_access_matrix.py`` discovers every URL pattern of ``hocba.urls`` and every operation of the
API's OpenAPI schema and fails for any that is missing here, then asks each one as every role, on
objects of the user's own school and of another school, and compares the answers with this table.

Each row is one string of nine outcomes, one per role in the order of :data:`ROLES`::

    anonymous, subject_teacher, homeroom_teacher, principal, deputy_principal, school_admin,
    district_staff, department_staff, system_admin

    +  allowed (any answer but a refusal: 200, a redirect elsewhere, 400 for the empty form);
       for a POST to one of :data:`WRITES`: answered, and nothing changed in the database
    w  a POST to one of :data:`WRITES` that was allowed and changed the database
    L  redirect to the login page (anonymous on staff pages)
    1  401 (API without a session, an agent token or an API key)
    3  403 (refused: the object is visible but the action is not the role's)
    4  404 (refused: the object is out of the role's sight, or does not exist for anyone)
    5  405 (method not allowed)

A value is ``(own, foreign)`` for URLs that name an object, or one string for URLs that do not.
"own" objects belong to school A, where the school's users work and which district staff oversee;
"foreign" ones to school B, in another district of the same province (so Department staff see
both sides). Province and district pages use the users' province/district and another one.

The Django admin (``/quan-tri/``, namespace ``admin``) is covered by one rule, :data:`ADMIN_RULE`:
only ``is_staff`` accounts get in; none of the nine roles is ``is_staff``, so every one of them is
sent to the admin's login page.
"""

from __future__ import annotations

ROLES = (
    "anonymous",
    "subject_teacher",
    "homeroom_teacher",
    "principal",
    "deputy_principal",
    "school_admin",
    "district_staff",
    "department_staff",
    "system_admin",
)

Row = str | tuple[str, str]

ADMIN_NAMESPACE = "admin"
ADMIN_RULE = "LLLLLLLLL"  # is_staff only; a superuser gets in (test_admin_is_for_staff_only)

# State-changing endpoints: every refused POST (and every POST from a role that only reads:
# anonymous, district and Department staff) must leave the database as it was.
WRITES = frozenset(
    {
        "web:import",
        "web:grid_save",
        "web:year_end_refresh",
        "web:year_end_exemplary",
        "web:year_end_adhoc",
        "web:year_end_summer",
        "web:year_end_promotion",
        "web:locks_finish",
        "web:locks_create",
        "web:locks_unlock",
        "web:comment_bank",
        "web:comment_bank_edit",
        "web:comment_bank_delete",
        "web:excel_subject_upload",
        "web:excel_competency_upload",
        "web:excel_facts_upload",
        "web:excel_class_upload",
        "web:excel_comments_upload",
        "web:render_job_start",
        "web:render_school_job_start",
        "web:records_compile",
        "web:signing_register",
        "web:signing_remote",
        "web:signing_token",
        "web:signing_retire",
        "web:signing_start",
        "web:signing_resume",
        "web:signing_cancel",
        "web:record_correct",
        "web:record_correct_cancel",
        "web:record_revoke",
        "web:record_copy",
        "web:transfer_release",
        "web:transfer_receive",
        "POST /api/v1/classes/{class_id}/marks",
        "POST /api/v1/exchange/record-sets",
        "POST /api/v1/signing/agent/batches/{batch_id}/prepare",
        "POST /api/v1/signing/agent/batches/{batch_id}/signatures",
        "POST /api/v1/signing/agent/certificates",
    }
)

# A small valid form for some state-changing pages, so that an allowed role really changes
# something (``w``) and a refusal that answers 200 or a redirect is seen to change nothing (``+``).
POST_BODIES: dict[str, dict[str, str]] = {
    "web:record_revoke": {"reason": "Cấp nhầm học sinh."},
    "web:record_correct": {"reason": "Sai ngày sinh."},
    "web:locks_create": {"subject": "toan", "period": "gk1", "reason": "Đã nhập xong."},
    "web:locks_unlock": {"reason": "Sửa điểm nhập nhầm."},
    "web:year_end_exemplary": {"exemplary": "on", "reason": "Gương mẫu."},
    "web:year_end_adhoc": {"adhoc_awards": "Giải Nhất vẽ tranh."},
    "web:comment_bank": {"code": "MX1", "target": "toan", "text": "Làm tính tốt."},
    "web:comment_bank_edit": {"code": "MX2", "target": "toan", "text": "Làm tính rất tốt."},
}

# Query strings for pages that take their object from the query (filled from the same objects).
QUERIES: dict[str, str] = {
    "exchange:export": "school={school_code}&year={year_name}",
}

POLICY: dict[str, dict[str, Row]] = {
    # --- Probes, privacy notice, language switch, the public transparency log (empty here: 404)
    "healthz": {"GET": "+++++++++", "POST": "555555555"},
    "readyz": {"GET": "+++++++++", "POST": "555555555"},
    "web:privacy": {"GET": "+++++++++"},
    "set_language": {"GET": "+++++++++", "POST": "+++++++++"},
    # No record is issued in this world: the log is empty, so its files answer 404 to everyone.
    "ledger:checkpoint": {"GET": "444444444", "POST": "555555555"},
    "ledger:checkpoint_by_size": {
        "GET": ("444444444", "444444444"),
        "POST": ("555555555", "555555555"),
    },
    "ledger:key": {"GET": "+++++++++", "POST": "555555555"},
    "ledger:entries": {"GET": ("444444444", "444444444"), "POST": ("555555555", "555555555")},
    "ledger:tile": {"GET": ("444444444", "444444444"), "POST": ("555555555", "555555555")},
    "ledger:status_list": {"GET": "+++++++++", "POST": "555555555"},
    # --- The public verification portal and parent look-up (records not issued here: PDF 404)
    "verification:status": {"GET": ("+++++++++", "+++++++++")},
    # The PDF and the ledger proof exist only for issued records: 404 to everyone here.
    "verification:pdf": {"GET": ("444444444", "444444444"), "POST": ("555555555", "555555555")},
    "verification:proof": {"GET": ("444444444", "444444444"), "POST": ("555555555", "555555555")},
    "verification:file": {"GET": "+++++++++", "POST": "+++++++++"},
    "verification:file_json": {"GET": "444444444", "POST": "555555555"},
    "verification:file_pdf": {"GET": "444444444", "POST": "555555555"},
    "verification:lookup": {"GET": "+++++++++", "POST": "+++++++++"},
    "verification:lookup_leave": {"GET": "555555555", "POST": "+++++++++"},
    "verification:lookup_booklet": {"GET": "+++++++++", "POST": "555555555"},
    # --- Rollout dashboards: principal and deputy (not the school administrator), district,
    # Department and system staff
    "monitoring:index": {"GET": "L33++3+++"},
    "monitoring:country": {"GET": "L3344344+"},
    "monitoring:country_export": {"GET": ("L3344344+", "L3344344+")},
    "monitoring:province": {"GET": ("L334434++", "L3344344+")},
    "monitoring:province_export": {"GET": ("L334434++", "L3344344+")},
    "monitoring:district": {"GET": ("L33443+++", "L334434++")},
    "monitoring:district_export": {"GET": ("L33443+++", "L334434++")},
    "monitoring:school": {"GET": ("L33++3+++", "L334434++")},
    "monitoring:school_export": {"GET": ("L33++3+++", "L334434++")},
    "monitoring:school_class": {"GET": ("L33++3+++", "L334434++")},
    "monitoring:school_class_export": {"GET": ("L33++3+++", "L334434++")},
    # --- Staff pages
    "web:home": {"GET": "L++++++++"},
    "web:login": {"GET": "+++++++++", "POST": "+++++++++"},
    "web:logout": {"GET": "555555555", "POST": "LLLLLLLLL"},
    "web:twofactor_verify": {"GET": "L++++++++", "POST": "L++++++++"},
    "web:twofactor_setup": {"GET": "L++++++++", "POST": "L++++++++"},
    "web:twofactor_recovery": {"GET": "L++++++++", "POST": "L++++++++"},
    "web:school": {"GET": ("L++++++++", "L444444++")},
    "web:school_audit": {"GET": ("L33+++33+", "L4444443+")},
    "web:import": {"GET": ("L33+++33+", "L4444443+"), "POST": ("L33+++33+", "L4444443+")},
    "web:import_template": {"GET": ("L33+++33+", "L4444443+")},
    "web:pupil_search": {"GET": ("L++++++++", "L444444++")},
    "web:class": {"GET": ("L++++++++", "L444444++")},
    "web:pupil": {"GET": ("L++++++++", "L444444++")},
    # The demo PKI's CRL and timestamp authority: public, 404 when the demo PKI is not set up.
    "web:demo_crl": {"GET": "444444444", "POST": "555555555"},
    "web:demo_tsa": {"GET": "555555555", "POST": "444444444"},
    "web:grid_subject_default": {"GET": ("L++++++++", "L444444++")},
    "web:grid_subject": {"GET": ("L++++++++", "L444444++")},
    "web:grid_homeroom_default": {"GET": ("L++++++++", "L444444++")},
    "web:grid_homeroom": {"GET": ("L++++++++", "L444444++")},
    "web:grid_facts": {"GET": ("L++++++++", "L444444++")},
    "web:class_overview": {"GET": ("L++++++++", "L444444++")},
    # JSON save of the entry grid: 401 without a session, 403 for a class out of sight.
    "web:grid_save": {"GET": ("555555555", "555555555"), "POST": ("1++++++++", "1333333++")},
    "web:year_end": {"GET": ("L++++++++", "L444444++")},
    # Recomputing the derived year-end results: anyone at the school who sees the class
    # (assessment/year_end.py: refresh_year_end); read-only above the school.
    "web:year_end_refresh": {"GET": ("L55555555", "L55555555"), "POST": ("Lwwwww33w", "L4444443w")},
    "web:year_end_exemplary": {
        "GET": ("L55555555", "L55555555"),
        "POST": ("L3+333333", "L44444433"),
    },
    "web:year_end_adhoc": {"GET": ("L55555555", "L55555555"), "POST": ("L3w333333", "L44444433")},
    "web:year_end_summer": {"GET": ("L55555555", "L55555555"), "POST": ("L3+333333", "L44444433")},
    "web:year_end_promotion": {
        "GET": ("L55555555", "L55555555"),
        "POST": ("L33++3333", "L44444433"),
    },
    "web:locks": {"GET": ("L++++++++", "L444444++")},
    "web:locks_finish": {"GET": ("L55555555", "L55555555"), "POST": ("L3+333333", "L44444433")},
    "web:locks_create": {"GET": ("L55555555", "L55555555"), "POST": ("Lw3w3w33w", "L4444443w")},
    "web:locks_unlock": {"GET": ("L55555555", "L55555555"), "POST": ("L33w3w33w", "L4444443w")},
    "web:comment_bank": {"GET": ("L++++++++", "L444444++"), "POST": ("Lwwwww33w", "L4444443w")},
    "web:comment_bank_edit": {
        "GET": ("L++++++++", "L444444++"),
        "POST": ("L33www33w", "L4444443w"),
    },
    "web:comment_bank_delete": {
        "GET": ("L++++++++", "L444444++"),
        "POST": ("L33www33w", "L4444443w"),
    },
    "web:excel_class": {"GET": ("L++++++++", "L444444++")},
    "web:excel_subject_download": {"GET": ("L++++++++", "L444444++")},
    "web:excel_subject_upload": {
        "GET": ("L+3333333", "L44444433"),
        "POST": ("L+3333333", "L44444433"),
    },
    "web:excel_competency_download": {"GET": ("L++++++++", "L444444++")},
    "web:excel_competency_upload": {
        "GET": ("L3+333333", "L44444433"),
        "POST": ("L3+333333", "L44444433"),
    },
    "web:excel_facts_download": {"GET": ("L++++++++", "L444444++")},
    "web:excel_facts_upload": {
        "GET": ("L3+333333", "L44444433"),
        "POST": ("L3+333333", "L44444433"),
    },
    "web:excel_class_download": {"GET": ("L++++++++", "L444444++")},
    "web:excel_class_upload": {
        "GET": ("L++333333", "L44444433"),
        "POST": ("L++333333", "L44444433"),
    },
    "web:excel_summary": {"GET": ("L++++++++", "L444444++")},
    "web:excel_comments_download": {"GET": ("L++++++++", "L444444++")},
    "web:excel_comments_upload": {
        "GET": ("L33+++33+", "L4444443+"),
        "POST": ("L33+++33+", "L4444443+"),
    },
    "web:render_job_start": {"GET": ("L55555555", "L55555555"), "POST": ("Lwwwww33w", "L4444443w")},
    "web:render_school_job_start": {
        "GET": ("L55555555", "L55555555"),
        "POST": ("L33www33w", "L4444443w"),
    },
    "web:render_job": {"GET": ("L+++++33+", "L4444443+"), "POST": ("L55555555", "L55555555")},
    # The job is not finished: 404 even to those who may download it (403 above the school).
    "web:render_job_download": {
        "GET": ("L44444334", "L44444434"),
        "POST": ("L55555555", "L55555555"),
    },
    "web:records_class": {"GET": ("L++++++++", "L444444++")},
    "web:records_compile": {"GET": ("L55555555", "L55555555"), "POST": ("L+wwww++w", "L444444+w")},
    "web:records_class_zip": {"GET": ("L++++++++", "L444444++")},
    "web:records_pdf": {"GET": ("L++++++++", "L444444++")},
    "web:records_booklet": {"GET": ("L++++++++", "L444444++")},
    "web:signing_certificates": {"GET": "L++++++++"},
    "web:signing_register": {"GET": "L55555555", "POST": "L++++++++"},
    "web:signing_remote": {"GET": "L55555555", "POST": "L++++++++"},
    "web:signing_token": {"GET": "L55555555", "POST": "L++++++++"},
    "web:signing_retire": {"GET": ("L55555555", "L55555555"), "POST": ("L++w++++w", "L+++++++w")},
    "web:signing_class": {"GET": ("L++++++++", "L444444++"), "POST": ("L++++++++", "L444444++")},
    "web:signing_school": {"GET": ("L++++++++", "L444444++"), "POST": ("L++++++++", "L444444++")},
    # Without a valid form (class, step, certificate) the start page finds nothing: 404.
    "web:signing_start": {"GET": "L55555555", "POST": "L44444444"},
    # A batch is seen by the managers of its school only (not the system administrator).
    "web:signing_batch": {"GET": ("L44+++444", "L44444444")},
    "web:signing_resume": {"GET": ("L55555555", "L55555555"), "POST": ("L44+++444", "L44444444")},
    "web:signing_cancel": {"GET": ("L55555555", "L55555555"), "POST": ("L44www444", "L44444444")},
    "web:record_detail": {"GET": ("L++++++++", "L444444++")},
    "web:record_correct": {"GET": ("L55555555", "L55555555"), "POST": ("L++++++++", "L444444++")},
    # No open correction and no issued record here: 404 to everyone (a coverage gap).
    "web:record_correct_cancel": {
        "GET": ("L55555555", "L55555555"),
        "POST": ("L44444444", "L44444444"),
    },
    # Revoking or correcting a record that is not issued is refused in the page: "+" = nothing
    # changed, for every role.
    "web:record_revoke": {"GET": ("L55555555", "L55555555"), "POST": ("L++++++++", "L444444++")},
    "web:record_copy": {"GET": ("L55555555", "L55555555"), "POST": ("L44444444", "L44444444")},
    "web:guide": {"GET": "+++++++++"},
    "web:guide_page": {"GET": ("+++++++++", "+++++++++")},
    "web:transfer_release": {"GET": ("L33+++33+", "L4444443+"), "POST": ("L33+++33+", "L4444443+")},
    # Refused with 403 (not 404) to another school's managers: the view checks the sending
    # school after finding the transfer.
    "web:transfer_package": {"GET": ("L44+++44+", "L4444444+")},
    "web:transfer_receive": {"GET": ("L33+++33+", "L4444443+"), "POST": ("L33+++33+", "L4444443+")},
    "web:transfer_record_pdf": {"GET": ("L44++++++", "L444444++")},
    # --- Exchange export (a school's or a province's issued records, streamed as JSON)
    # School managers export their school, Department staff their province (not district staff).
    "exchange:export": {"GET": ("L33+++3++", "L333333++")},
    # --- REST API: operations of the OpenAPI schema, keyed "METHOD path"
    "GET /api/v1/classes/{class_id}/marks": {"GET": ("1++++++++", "1444444++")},
    "GET /api/v1/classes/{class_id}/pupils": {"GET": ("1++++++++", "1444444++")},
    "GET /api/v1/classes/{class_id}/year-end": {"GET": ("1++++++++", "1444444++")},
    "GET /api/v1/pupils/{pupil_id}": {"GET": ("1++++++++", "1444444++")},
    "GET /api/v1/pupils/{pupil_id}/history": {"GET": ("1++++++++", "1444444++")},
    "GET /api/v1/schools": {"GET": "1++++++++"},
    "GET /api/v1/schools/{school_id}/classes": {"GET": ("1++++++++", "1444444++")},
    "GET /api/v1/signing/agent/batches": {"GET": "1++++++++"},
    "GET /api/v1/verify/{short_code}": {"GET": ("+++++++++", "+++++++++")},
    "GET /api/v1/verify/{short_code}/status": {"GET": ("+++++++++", "+++++++++")},
    # Class 4A is finished (locked) so that its records compile: edits are refused with 400/409.
    "POST /api/v1/classes/{class_id}/marks": {"POST": ("1++++++++", "1444444++")},
    # API keys with exchange:push only: sessions and agent tokens get 401 (see the key test).
    "POST /api/v1/exchange/record-sets": {"POST": "111111111"},
    "POST /api/v1/signing/agent/batches/{batch_id}/prepare": {"POST": ("133+33333", "133333333")},
    "POST /api/v1/signing/agent/batches/{batch_id}/signatures": {
        "POST": ("133+33333", "133333333")
    },
    "POST /api/v1/signing/agent/certificates": {"POST": "1++++++++"},
    # Each role logs in with its own password; anonymous sends an unknown user: 401.
    "POST /api/v1/signing/agent/login": {"POST": "1++++++++"},
    "POST /api/v1/verify/file": {"POST": "+++++++++"},
    "POST /api/v1/verify/{short_code}": {"POST": ("+++++++++", "+++++++++")},
}
