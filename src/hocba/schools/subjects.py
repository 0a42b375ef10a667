"""Subject and activity codes of the primary programme (DOMAIN §2.1).

The per-grade rule set (which grade has which subject, which are tested when) belongs to the
assessment app; this catalogue only names the codes that teaching assignments refer to, in the
row order of the Ministry's form (DOMAIN §3).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Subject(models.TextChoices):
    TIENG_VIET = "tieng_viet", _("Tiếng Việt")
    TOAN = "toan", _("Toán")
    NGOAI_NGU_1 = "ngoai_ngu_1", _("Ngoại ngữ 1")
    LICH_SU_DIA_LI = "lich_su_dia_li", _("Lịch sử và Địa lí")
    KHOA_HOC = "khoa_hoc", _("Khoa học")
    TIN_HOC = "tin_hoc", _("Tin học và Công nghệ (Tin học)")
    CONG_NGHE = "cong_nghe", _("Tin học và Công nghệ (Công nghệ)")
    DAO_DUC = "dao_duc", _("Đạo đức")
    TU_NHIEN_XA_HOI = "tu_nhien_xa_hoi", _("Tự nhiên và Xã hội")
    GIAO_DUC_THE_CHAT = "giao_duc_the_chat", _("Giáo dục thể chất")
    AM_NHAC = "am_nhac", _("Nghệ thuật (Âm nhạc)")
    MI_THUAT = "mi_thuat", _("Nghệ thuật (Mĩ thuật)")
    HOAT_DONG_TRAI_NGHIEM = "hoat_dong_trai_nghiem", _("Hoạt động trải nghiệm")
    TIENG_DAN_TOC = "tieng_dan_toc", _("Tiếng dân tộc thiểu số")
