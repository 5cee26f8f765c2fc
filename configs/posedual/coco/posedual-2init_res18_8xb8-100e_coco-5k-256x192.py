# PoseDual from two separately trained networks (Algorithm 1 and Supp. B of seed 000): net1
# and net2 start from the supervised COCO-5k runs with seeds 0 and 1, then train as in
# posedual_res18_8xb8-100e_coco-5k-256x192.py. First train both:
#   bash tools/dist_train.sh configs/posedual/coco/supervised-net1_res18_8xb4-469k_coco-5k-256x192.py 8
#   bash tools/dist_train.sh configs/posedual/coco/supervised-net2_res18_8xb4-469k_coco-5k-256x192.py 8
# Each network loads its own checkpoint through its init_cfg (a resumed PoseDual run
# restores its own checkpoint on top, as usual).
_base_ = ['./posedual_res18_8xb8-100e_coco-5k-256x192.py']
net1_checkpoint = 'work_dirs/supervised-net1_res18_8xb4-469k_coco-5k-256x192/iter_468700.pth'
net2_checkpoint = 'work_dirs/supervised-net2_res18_8xb4-469k_coco-5k-256x192/iter_468700.pth'
# the backbone's ImageNet download is not needed: each whole network is loaded
net1 = dict(_base_.estimator, init_cfg=dict(type='Pretrained', checkpoint=net1_checkpoint))
net1['backbone'] = dict(net1['backbone'], init_cfg=None)
net2 = dict(net1, init_cfg=dict(type='Pretrained', checkpoint=net2_checkpoint))
model = dict(estimator=net1, estimator2=net2)
