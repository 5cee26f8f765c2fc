# PoseCons with teacher and student views from the SAME distribution (teacher_view='same':
# the teacher gets its own draw of the hard affine), ResNet-18, COCO 10K labeled: the
# collapsing setup of seed 000 Table 9 (paper: response falls toward 0, AP 26.2 vs the
# supervised 51.1). Data, schedule and everything else as posecons_res18_8xb8-100e_coco-10k-256x192.
_base_ = ['./posecons_res18_8xb8-100e_coco-10k-256x192.py']
model = dict(teacher_view='same')
