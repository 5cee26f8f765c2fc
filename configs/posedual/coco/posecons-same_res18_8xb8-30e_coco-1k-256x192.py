# PoseCons with teacher and student views from the SAME distribution (teacher_view='same':
# the teacher gets its own draw of the hard affine), ResNet-18, COCO 1K labeled: the
# collapsing setup of seed 000 Table 9 (paper: response falls toward 0, AP 0.8 vs the
# supervised 31.5). Data, schedule and everything else as posecons_res18_8xb8-30e_coco-1k-256x192.
_base_ = ['./posecons_res18_8xb8-30e_coco-1k-256x192.py']
model = dict(teacher_view='same')
