# Network 1 of the two-network start (seed 000, Supp. B): the supervised baseline trained
# with its own seed (0), so net1 and net2 of
# posedual-2init_res18_8xb8-100e_coco-10k-256x192.py start from different initialisations
# (head weights and data order differ; the ImageNet backbone is shared).
_base_ = ['./supervised_res18_8xb4-469k_coco-10k-256x192.py']
randomness = dict(seed=0)
