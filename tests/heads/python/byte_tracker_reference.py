# A plain-Python ByteTrack written for the tests from ByteTrack's published logic
# (yolox/tracker/byte_tracker.py, matching.py, kalman_filter.py; conventions.md §1.6), with
# scipy on lap's extended cost matrix as the assignment (lap.lapjv(extend_cost=True,
# cost_limit)). Usage: byte_tracker_reference.py DETS OUT [key=value ...]
#   DETS: "frame,x,y,w,h,score" lines (frames 1..N, every frame called); OUT: the outputs
#   "frame,id,x,y,w,h,score" of every frame (repr floats).
import sys
import numpy as np
import scipy.linalg
from scipy.optimize import linear_sum_assignment

opt = dict(track_thresh=0.6, low_thresh=0.1, match_thresh=0.8, track_buffer=30, frame_rate=30, fuse=1)
for kv in sys.argv[3:]:
    k, v = kv.split("=")
    opt[k] = float(v)
opt["det_thresh"] = opt.get("det_thresh", opt["track_thresh"] + 0.1)

F = np.eye(8); F[:4, 4:] = np.eye(4)
H = np.eye(4, 8)
WP, WV = 1 / 20, 1 / 160


def kf_initiate(z):
    h = z[3]
    std = [2*WP*h, 2*WP*h, 1e-2, 2*WP*h, 10*WV*h, 10*WV*h, 1e-5, 10*WV*h]
    return np.r_[z, np.zeros(4)], np.diag(np.square(std))


def kf_predict(x, P):
    h = x[3]
    Q = np.diag(np.square([WP*h, WP*h, 1e-2, WP*h, WV*h, WV*h, 1e-5, WV*h]))
    return F @ x, F @ P @ F.T + Q


def kf_update(x, P, z):
    h = x[3]
    S = H @ P @ H.T + np.diag(np.square([WP*h, WP*h, 1e-1, WP*h]))
    K = scipy.linalg.cho_solve(scipy.linalg.cho_factor(S, lower=True), (P @ H.T).T).T
    return x + K @ (z - H @ x), P - K @ S @ K.T


def xyah(t):
    return np.array([t[0] + t[2] / 2, t[1] + t[3] / 2, t[2] / t[3], t[3]])


TRACKED, LOST, REMOVED = 0, 1, 2


class Track:
    count = 0

    def __init__(self, tlwh, score):
        self._tlwh = np.asarray(tlwh, float)
        self.score = score
        self.mean = None
        self.activated = False
        self.state = TRACKED

    @property
    def tlwh(self):
        if self.mean is None:
            return self._tlwh.copy()
        r = self.mean[:4].copy()
        r[2] *= r[3]
        r[:2] -= r[2:] / 2
        return r

    def activate(self, frame):
        Track.count += 1
        self.id = Track.count
        self.mean, self.cov = kf_initiate(xyah(self._tlwh))
        self.state = TRACKED
        self.activated = frame == 1
        self.frame = self.start = frame

    def update(self, det, frame):
        self.mean, self.cov = kf_update(self.mean, self.cov, xyah(det.tlwh))
        self.state = TRACKED
        self.activated = True
        self.frame = frame
        self.score = det.score


def iou(a, b):
    # cython_bbox.bbox_overlaps on tlbr boxes (+1 areas)
    a1, b1 = a[:2], b[:2]
    a2, b2 = a[:2] + a[2:], b[:2] + b[2:]
    iw = min(a2[0], b2[0]) - max(a1[0], b1[0]) + 1
    if iw <= 0:
        return 0.0
    ih = min(a2[1], b2[1]) - max(a1[1], b1[1]) + 1
    if ih <= 0:
        return 0.0
    ua = (a[2] + 1) * (a[3] + 1) + (b[2] + 1) * (b[3] + 1) - iw * ih
    return iw * ih / ua


def iou_distance(ta, tb):
    c = np.zeros((len(ta), len(tb)))
    for i, a in enumerate(ta):
        for j, b in enumerate(tb):
            c[i, j] = 1 - iou(a.tlwh, b.tlwh)
    return c


def fuse_score(c, dets):
    if c.size == 0:
        return c
    return 1 - (1 - c) * np.array([d.score for d in dets])[None, :]


def linear_assignment(c, thresh):
    r, k = c.shape
    if c.size == 0:
        return [], list(range(r)), list(range(k))
    ext = np.zeros((r + k, r + k))
    ext[:r, :k] = c
    ext[:r, k:] = thresh / 2
    ext[r:, :k] = thresh / 2
    rows, cols = linear_sum_assignment(ext)
    x = -np.ones(r, int); y = -np.ones(k, int)
    for i, j in zip(rows, cols):
        if i < r and j < k:
            x[i] = j; y[j] = i
    return [(i, x[i]) for i in range(r) if x[i] >= 0], [i for i in range(r) if x[i] < 0], [j for j in range(k) if y[j] < 0]


def joint(a, b):
    seen, res = set(), []
    for t in a + b:
        if t.id not in seen:
            seen.add(t.id); res.append(t)
    return res


def sub(a, b):
    d = {}
    for t in a:
        d[t.id] = t
    for t in b:
        d.pop(t.id, None)
    return list(d.values())


class Tracker:
    def __init__(self):
        self.tracked, self.lost, self.removed = [], [], []
        self.frame = 0
        self.max_time_lost = int(opt["frame_rate"] / 30.0 * opt["track_buffer"])

    def update(self, boxes, scores):
        self.frame += 1
        activated, refind, lost, removed = [], [], [], []
        th = opt["track_thresh"]
        dets = [Track(b, s) for b, s in zip(boxes, scores) if s > th]
        dets_second = [Track(b, s) for b, s in zip(boxes, scores) if opt["low_thresh"] < s < th]
        unconfirmed = [t for t in self.tracked if not t.activated]
        tracked = [t for t in self.tracked if t.activated]
        pool = joint(tracked, self.lost)
        for t in pool:
            if t.state != TRACKED:
                t.mean[7] = 0
            t.mean, t.cov = kf_predict(t.mean, t.cov)
        d = iou_distance(pool, dets)
        if opt["fuse"]:
            d = fuse_score(d, dets)
        m, u_track, u_det = linear_assignment(d, opt["match_thresh"])
        for i, j in m:
            t = pool[i]
            (activated if t.state == TRACKED else refind).append(t)
            t.update(dets[j], self.frame)
        r_tracked = [pool[i] for i in u_track if pool[i].state == TRACKED]
        m, u_track, _ = linear_assignment(iou_distance(r_tracked, dets_second), 0.5)
        for i, j in m:
            t = r_tracked[i]
            (activated if t.state == TRACKED else refind).append(t)
            t.update(dets_second[j], self.frame)
        for i in u_track:
            t = r_tracked[i]
            if t.state != LOST:
                t.state = LOST; lost.append(t)
        dets = [dets[j] for j in u_det]
        d = iou_distance(unconfirmed, dets)
        if opt["fuse"]:
            d = fuse_score(d, dets)
        m, u_unc, u_det = linear_assignment(d, 0.7)
        for i, j in m:
            unconfirmed[i].update(dets[j], self.frame); activated.append(unconfirmed[i])
        for i in u_unc:
            unconfirmed[i].state = REMOVED; removed.append(unconfirmed[i])
        for j in u_det:
            t = dets[j]
            if t.score < opt["det_thresh"]:
                continue
            t.activate(self.frame); activated.append(t)
        for t in self.lost:
            if self.frame - t.frame > self.max_time_lost:
                t.state = REMOVED; removed.append(t)
        self.tracked = [t for t in self.tracked if t.state == TRACKED]
        self.tracked = joint(joint(self.tracked, activated), refind)
        self.lost = sub(self.lost, self.tracked)
        self.lost.extend(lost)
        self.lost = sub(self.lost, self.removed)
        self.removed.extend(removed)
        pd = iou_distance(self.tracked, self.lost)
        dupa, dupb = [], []
        for p, q in zip(*np.where(pd < 0.15)):
            tp = self.tracked[p].frame - self.tracked[p].start
            tq = self.lost[q].frame - self.lost[q].start
            (dupb.append(q) if tp > tq else dupa.append(p))
        self.tracked = [t for i, t in enumerate(self.tracked) if i not in dupa]
        self.lost = [t for i, t in enumerate(self.lost) if i not in dupb]
        return [t for t in self.tracked if t.activated]


rows = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
last = int(rows[:, 0].max()) if len(rows) else 0
tracker = Tracker()
with open(sys.argv[2], "w") as out:
    for f in range(1, last + 1):
        r = rows[rows[:, 0] == f]
        for t in tracker.update(r[:, 1:5], r[:, 5]):
            out.write(",".join([str(f), str(t.id)] + [repr(float(v)) for v in t.tlwh] + [repr(float(t.score))]) + "\n")
