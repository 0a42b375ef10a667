"""Teacher comments for the demo assessments (``hocba demo``): DEMO, NOT FOR PRODUCTION.

Short, realistic Vietnamese comments per subject and per quality/competency, by level, as teachers
write them in the học bạ. They are demo data, not user-facing text, so they are not translatable.
The subject lists double as the demo schools' shared comment bank (codes ``TV1``, ``TO2`` ...).
"""

from __future__ import annotations

# subject code → (bank code prefix, {level: comments})
SUBJECT_COMMENTS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "tieng_viet": ("TV", {
        "T": ("Đọc to, rõ ràng, diễn cảm; viết đúng chính tả, trình bày đẹp.",
              "Đọc lưu loát, hiểu nội dung bài; viết đoạn văn mạch lạc.",
              "Nắm vững kiến thức; vốn từ phong phú, đặt câu hay."),
        "H": ("Đọc to, rõ ràng; viết đúng chính tả.",
              "Đọc khá trôi chảy; chữ viết cần đều nét hơn.",
              "Hoàn thành các bài tập; cần chú ý viết hoa đúng quy tắc."),
        "C": ("Đọc còn chậm, đánh vần nhiều; viết sai chính tả nhiều.",
              "Cần luyện đọc thêm ở nhà; chữ viết chưa đúng mẫu."),
    }),
    "toan": ("TO", {
        "T": ("Tính toán nhanh, chính xác; giải toán có lời văn tốt.",
              "Nắm chắc kiến thức; biết vận dụng giải bài toán thực tế.",
              "Tư duy tốt, trình bày bài sạch sẽ, khoa học."),
        "H": ("Thực hiện được các phép tính; cần cẩn thận hơn khi trình bày.",
              "Biết giải toán có lời văn; đôi khi còn nhầm đơn vị đo.",
              "Hoàn thành bài tập; cần kiểm tra lại kết quả sau khi làm."),
        "C": ("Tính toán còn chậm, hay nhầm; cần ôn lại bảng nhân, chia.",
              "Chưa biết cách giải toán có lời văn; cần luyện tập thêm."),
    }),
    "ngoai_ngu_1": ("TA", {
        "T": ("Phát âm chuẩn, giao tiếp tự tin; thuộc nhiều từ vựng.",
              "Nghe hiểu tốt, trả lời đúng các câu hỏi trong bài."),
        "H": ("Nghe hiểu câu đơn giản; cần luyện phát âm thêm.",
              "Thuộc từ vựng cơ bản; cần mạnh dạn nói hơn."),
        "C": ("Vốn từ còn ít; chưa mạnh dạn nói tiếng Anh.",),
    }),
    "lich_su_dia_li": ("LS", {
        "T": ("Nắm chắc các sự kiện lịch sử; đọc bản đồ thành thạo.",
              "Kể lại được các sự kiện, nhân vật lịch sử một cách hấp dẫn."),
        "H": ("Biết một số sự kiện, nhân vật lịch sử; cần ghi nhớ thêm.",
              "Chỉ được một số địa danh trên bản đồ."),
        "C": ("Chưa nhớ các sự kiện chính; cần ôn bài thường xuyên.",),
    }),
    "khoa_hoc": ("KH", {
        "T": ("Hiểu bài, biết liên hệ thực tế; tích cực làm thí nghiệm.",
              "Ham tìm hiểu, giải thích được các hiện tượng tự nhiên."),
        "H": ("Nắm được kiến thức cơ bản; cần mạnh dạn phát biểu.",
              "Biết quan sát, làm thí nghiệm theo hướng dẫn."),
        "C": ("Chưa nắm được kiến thức cơ bản của bài học.",),
    }),
    "tin_hoc": ("TH", {
        "T": ("Sử dụng máy tính thành thạo; gõ phím nhanh, đúng.",
              "Thực hành tốt, biết tạo sản phẩm đơn giản trên máy tính."),
        "H": ("Biết thực hiện các thao tác cơ bản; cần luyện gõ phím.",
              "Hoàn thành bài thực hành theo hướng dẫn."),
        "C": ("Thao tác với chuột, bàn phím còn chậm.",),
    }),
    "cong_nghe": ("CN", {
        "T": ("Lắp ghép mô hình khéo léo, sáng tạo.",
              "Sử dụng dụng cụ an toàn, sản phẩm đẹp."),
        "H": ("Thực hiện được sản phẩm theo hướng dẫn.",
              "Biết sử dụng dụng cụ; cần cẩn thận hơn."),
        "C": ("Chưa hoàn thành sản phẩm; cần cố gắng hơn.",),
    }),
    "dao_duc": ("DD", {
        "T": ("Lễ phép với thầy cô, đoàn kết với bạn bè; thực hiện tốt các hành vi đạo đức.",
              "Biết vâng lời, giúp đỡ mọi người."),
        "H": ("Biết các chuẩn mực hành vi; cần chủ động thực hiện hơn.",
              "Thực hiện được các hành vi đạo đức đã học."),
        "C": ("Cần thực hiện đúng nội quy lớp học.",),
    }),
    "tu_nhien_xa_hoi": ("XH", {
        "T": ("Hiểu biết về tự nhiên, xã hội; biết giữ gìn vệ sinh cá nhân.",
              "Quan sát tốt, nêu được nhiều ví dụ thực tế."),
        "H": ("Nêu được một số đặc điểm của cây cối, con vật.",
              "Biết giữ gìn vệ sinh; cần tích cực phát biểu."),
        "C": ("Chưa nêu được các nội dung chính của bài.",),
    }),
    "giao_duc_the_chat": ("TD", {
        "T": ("Tích cực tập luyện; thực hiện đúng, đẹp các động tác.",
              "Nhanh nhẹn, khéo léo trong các trò chơi vận động."),
        "H": ("Thực hiện được các động tác cơ bản.",
              "Tham gia tập luyện đầy đủ; cần tập trung hơn."),
        "C": ("Chưa thực hiện được các động tác cơ bản.",),
    }),
    "am_nhac": ("AN", {
        "T": ("Hát đúng giai điệu, thuộc lời; biểu diễn tự tin.",
              "Cảm nhận âm nhạc tốt, gõ đệm đúng nhịp."),
        "H": ("Hát thuộc lời bài hát; cần hát đúng nhịp hơn.",
              "Tham gia hát tập thể; cần mạnh dạn biểu diễn."),
        "C": ("Chưa thuộc lời các bài hát.",),
    }),
    "mi_thuat": ("MT", {
        "T": ("Vẽ đẹp, phối màu hài hoà, sáng tạo.",
              "Sản phẩm mĩ thuật có ý tưởng riêng, trình bày đẹp."),
        "H": ("Vẽ được theo đề tài; cần tô màu gọn hơn.",
              "Hoàn thành sản phẩm theo yêu cầu."),
        "C": ("Chưa hoàn thành sản phẩm theo yêu cầu.",),
    }),
    "hoat_dong_trai_nghiem": ("TN", {
        "T": ("Tích cực tham gia các hoạt động; mạnh dạn, hợp tác tốt.",
              "Chủ động, sáng tạo trong các hoạt động tập thể."),
        "H": ("Tham gia đầy đủ các hoạt động của lớp.",
              "Biết hợp tác với bạn; cần mạnh dạn hơn."),
        "C": ("Còn thụ động khi tham gia hoạt động chung.",),
    }),
}  # fmt: skip

# competency or quality code → {level: comments}
COMPETENCY_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "pc.yeu_nuoc": {"T": ("Yêu quê hương, kính trọng thầy cô; tích cực hoạt động của trường.",),
                    "Đ": ("Biết yêu quý trường lớp, kính trọng thầy cô.",),
                    "C": ("Cần tích cực tham gia hoạt động chung.",)},
    "pc.nhan_ai": {"T": ("Biết quan tâm, giúp đỡ bạn bè.",
                         "Thân thiện, biết chia sẻ với mọi người."),
                   "Đ": ("Hoà đồng với bạn bè.",),
                   "C": ("Cần biết nhường nhịn, chia sẻ với bạn.",)},
    "pc.cham_chi": {"T": ("Chăm học, chăm làm; hoàn thành bài tập đầy đủ.",),
                    "Đ": ("Đi học đều, làm bài tập ở nhà.",),
                    "C": ("Cần chăm chỉ học bài, làm bài ở nhà.",)},
    "pc.trung_thuc": {"T": ("Thật thà, dũng cảm nhận lỗi.",),
                      "Đ": ("Thật thà trong học tập.",),
                      "C": ("Cần biết nhận lỗi khi làm sai.",)},
    "pc.trach_nhiem": {"T": ("Có trách nhiệm với công việc được giao.",),
                       "Đ": ("Giữ gìn đồ dùng học tập cẩn thận.",),
                       "C": ("Cần giữ gìn đồ dùng, sách vở.",)},
    "nlc.tu_chu_tu_hoc": {"T": ("Tự giác học tập, biết tự chuẩn bị đồ dùng.",),
                          "Đ": ("Biết tự phục vụ bản thân.",),
                          "C": ("Cần tự giác hơn trong học tập.",)},
    "nlc.giao_tiep_hop_tac": {"T": ("Mạnh dạn giao tiếp; hợp tác tốt trong nhóm.",),
                              "Đ": ("Biết trao đổi với bạn trong nhóm.",),
                              "C": ("Còn nhút nhát; cần mạnh dạn hơn.",)},
    "nlc.giai_quyet_van_de": {"T": ("Biết phát hiện và giải quyết vấn đề trong học tập.",),
                              "Đ": ("Biết giải quyết nhiệm vụ với sự giúp đỡ của cô.",),
                              "C": ("Cần suy nghĩ độc lập hơn.",)},
    "nld.ngon_ngu": {"T": ("Diễn đạt rõ ràng, mạch lạc.",),
                     "Đ": ("Biết diễn đạt ý kiến bằng câu đơn giản.",),
                     "C": ("Diễn đạt còn lúng túng.",)},
    "nld.tinh_toan": {"T": ("Tính nhẩm nhanh, chính xác.",),
                      "Đ": ("Thực hiện được các phép tính cơ bản.",),
                      "C": ("Tính toán còn chậm.",)},
    "nld.khoa_hoc": {"T": ("Ham tìm hiểu thế giới xung quanh.",),
                     "Đ": ("Biết quan sát sự vật, hiện tượng.",),
                     "C": ("Cần quan sát kĩ hơn.",)},
    "nld.cong_nghe": {"T": ("Sử dụng đồ dùng kĩ thuật khéo léo, an toàn.",),
                      "Đ": ("Biết sử dụng đồ dùng kĩ thuật đơn giản.",),
                      "C": ("Cần cẩn thận khi sử dụng dụng cụ.",)},
    "nld.tin_hoc": {"T": ("Sử dụng máy tính đúng cách, an toàn.",),
                    "Đ": ("Biết sử dụng máy tính theo hướng dẫn.",),
                    "C": ("Cần luyện tập thêm với máy tính.",)},
    "nld.tham_mi": {"T": ("Biết cảm nhận cái đẹp; sản phẩm sáng tạo.",),
                    "Đ": ("Biết nhận ra cái đẹp trong cuộc sống.",),
                    "C": ("Cần chú ý hơn khi trình bày sản phẩm.",)},
    "nld.the_chat": {"T": ("Khoẻ mạnh, tích cực rèn luyện thân thể.",),
                     "Đ": ("Tham gia tập luyện đều đặn.",),
                     "C": ("Cần tích cực vận động hơn.",)},
}  # fmt: skip

# Shared bank entries for every subject: general ones, not tied to a subject.
GENERAL_COMMENTS = (
    ("TB1", "Có tiến bộ rõ rệt so với học kì I."),
    ("TB2", "Cần phát huy hơn nữa trong học kì II."),
    ("TB3", "Gia đình cần quan tâm, nhắc nhở con học bài ở nhà."),
)
# A homeroom teacher's own entries (the 4A teacher of the first school).
OWN_COMMENTS = (
    ("TV1", "tieng_viet", "Đọc diễn cảm, viết chữ đẹp; là tấm gương của lớp."),
    ("CC", "pc.cham_chi", "Đi học đúng giờ, chuẩn bị bài chu đáo."),
)

EXEMPLARY_REASONS = (
    "Thành tích xuất sắc môn Toán, được tập thể lớp bình chọn.",
    "Tiến bộ rõ rệt về năng lực tự chủ và tự học; được tập thể lớp công nhận.",
    "Viết chữ đẹp, đạt giải Viết chữ đẹp cấp trường; được cả lớp bình chọn.",
    "Tích cực giúp đỡ bạn bè, tiến bộ vượt bậc môn Tiếng Việt.",
)
ADHOC_AWARDS = (
    "Giải Nhì cuộc thi Viết chữ đẹp cấp quận.",
    "Giải Ba Hội khoẻ Phù Đổng cấp quận (bơi lội).",
    "Khen thưởng vì nhặt được của rơi trả lại người mất.",
    "Giải Khuyến khích cuộc thi Trạng nguyên Tiếng Việt cấp thành phố.",
)
SUMMER_NOTES = {
    "completed": "Sau thời gian rèn luyện trong hè, em đọc, viết đúng yêu cầu; đạt bài kiểm tra.",
    "not_completed": "Đã được cô giáo hướng dẫn trong hè nhưng vẫn chưa đạt yêu cầu môn học.",
}  # fmt: skip
