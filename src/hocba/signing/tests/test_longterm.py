"""After the seal: validation data and a document timestamp (PAdES B-LTA), as its own step."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from hocba.ledger.models import IssuedRecord
from hocba.records.models import YearRecord
from hocba.signing import longterm, registry
from hocba.signing.batch import current_pdf
from hocba.signing.models import LongTermValidation, RecordSignature, SigningStep
from hocba.signing.tests.conftest import Registered
from hocba.signing.tests.test_batch import _sign

pytestmark = pytest.mark.django_db


def _etsi_spec() -> PdfSignatureValidationSpec:
    """Validation with the trust store's root only: no local CRLs, nothing fetched."""
    store = registry.trust_store()
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=list(store.roots)),
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                # The signers' revocation status must come from the file's own DSS; the demo
                # issuing CA declares no CRL of its own.
                ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            )
        ),
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )


def test_sealed_records_get_validation_data_and_a_document_timestamp(
    registered: Registered, compiled: list[YearRecord], tsa_url: str
) -> None:
    for step, user in [
        (SigningStep.TEACHER, "homeroom_teacher"),
        (SigningStep.PRINCIPAL, "principal"),
        (SigningStep.SEAL, "principal"),
    ]:
        _sign(registered, step, user)
    ids = [r.pk for r in compiled]
    # The trust folder holds the demo root, its list for the issuing CA and the issuing CA's CRL.
    trust = registry.trust_store()
    done, failed = longterm.augment_sealed(ids, trust=trust, timestamper=HTTPTimeStamper(tsa_url))
    assert (done, failed) == (3, [])
    assert longterm.augment_sealed(ids, trust=trust, timestamper=HTTPTimeStamper(tsa_url)) == (
        0,
        [],
    )  # idempotent: nothing is augmented twice

    record = YearRecord.objects.get(pk=ids[0])
    sealed = RecordSignature.objects.get(record=record, step=SigningStep.SEAL)
    ltv = LongTermValidation.objects.get(record=record)
    pdf = current_pdf(record)
    assert len(pdf) == ltv.pdf_size and len(pdf) > sealed.pdf_size
    reader = PdfFileReader(io.BytesIO(pdf))
    assert [s.field_name for s in reader.embedded_regular_signatures] == [
        "gvcn",
        "hieu_truong",
        "con_dau",
    ]
    assert len(reader.embedded_timestamp_signatures) == 1
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.crls and len(list(dss.load_certs())) >= 4

    spec = _etsi_spec()
    for signature in reader.embedded_regular_signatures:
        result: Any = asyncio.run(ades_lta_validation(signature, spec))
        assert result.ades_subindic.status == AdESStatus.PASSED, (
            signature.field_name,
            result.ades_subindic,
        )


def test_a_finished_seal_batch_queues_the_long_term_step(
    registered: Registered, compiled: list[YearRecord], django_capture_on_commit_callbacks: Any
) -> None:
    from hocba.signing import tasks

    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    _sign(registered, SigningStep.PRINCIPAL, "principal")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        seal = _sign(registered, SigningStep.SEAL, "principal")
    assert len(callbacks) == 2  # the batch's own task, then the long-term step after it
    tasks.add_long_term_validation.call(seal.pk)
    assert LongTermValidation.objects.count() == 3
    # ... and the records are issued into the log, with the final PDF's hash.
    assert set(YearRecord.objects.values_list("status", flat=True)) == {"issued"}
    assert IssuedRecord.objects.count() == 3
    tasks.add_long_term_validation.call(seal.pk)  # again: nothing to do, nothing duplicated
    assert (LongTermValidation.objects.count(), IssuedRecord.objects.count()) == (3, 3)
