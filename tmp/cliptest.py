import numpy as np, shapely, time
from jixi_geo.controls.clip import clip_area, convex_windows, eligible_subjects
rng = np.random.default_rng(1)
n = 20000
X0 = 450000.0; Y0 = 5035000.0
# windows: rotated rectangles and random convex hulls
cx, cy = rng.uniform(0, 1000, n) + X0, rng.uniform(0, 1000, n) + Y0
pts = rng.normal(size=(n, 7, 2)) * rng.uniform(20, 300, n)[:, None, None] + np.c_[cx, cy][:, None, :]
win = shapely.convex_hull(shapely.multipoints(pts))
# subjects: random star polygons (concave) and quads
m = 9
ang = np.sort(rng.uniform(0, 2*np.pi, (n, m)), axis=1)
r = rng.uniform(50, 400, (n, m))
sx, sy = rng.uniform(0, 1000, n) + X0, rng.uniform(0, 1000, n) + Y0
ring = np.stack([sx[:, None] + r*np.cos(ang), sy[:, None] + r*np.sin(ang)], -1)
ring = np.concatenate([ring, ring[:, :1]], 1)
subj = shapely.polygons(ring)
subj = np.where(rng.random(n) < 0.5, subj, shapely.reverse(subj))
ok_s = eligible_subjects(subj) & shapely.is_valid(subj)
ok_w, hull = convex_windows(win)
print(ok_s.mean(), ok_w.mean())
sel = ok_s & ok_w
t=time.perf_counter(); a, x = clip_area(subj[sel], hull[sel]); print("np", time.perf_counter()-t)
t=time.perf_counter(); g = shapely.intersection(subj[sel], win[sel]); print("geos", time.perf_counter()-t)
ga = shapely.area(g)
err = np.abs(a - ga)
print("max abs err", err.max(), "max rel", (err/np.maximum(ga,1)).max(), (ga>0).sum())
nz = ga > 1
gx = shapely.get_x(shapely.centroid(g[nz]))
print("cx err", np.abs(x[nz]-gx).max())
# rectangle windows rotated
import cProfile, pstats
pr = cProfile.Profile(); pr.enable(); clip_area(subj[sel], hull[sel]); pr.disable()
pstats.Stats(pr).sort_stats("tottime").print_stats(8)
