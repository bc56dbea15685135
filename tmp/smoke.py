import geopandas as gpd, shapely, numpy as np, pandas as pd
from shapely import box
import jixi_geo as jg
from jixi_geo.redline import check_sites, check_sites_detail
x0, y0 = 500000.0, 5018000.0
site = box(x0, y0, x0+200, y0+200)
sites = gpd.GeoDataFrame({"site_id": ["a", "b"], "activity": ["industry", "road"]},
                         geometry=[site, box(x0+1000, y0, x0+1200, y0+200)], crs=4553).to_crs(4490)
farm = gpd.GeoDataFrame({"control_id": ["f1"], "name": [""], "level": [""]},
                        geometry=[box(x0-500, y0-500, x0+100, y0+700)], crs=4553).to_crs(4490)
lc = gpd.GeoDataFrame({"control_id": ["l1", "l2", "l3"], "name": "", "level": "",
                       "class_code": ["0101", "0301", "9999"], "class_known": [True, True, False],
                       "black_soil": [True, False, False]},
                      geometry=[box(x0-500, y0-500, x0+100, y0+700), box(x0+50, y0-500, x0+150, y0+700),
                                box(x0+150, y0+100, x0+170, y0+120)], crs=4553).to_crs(4490)
r = check_sites(sites, controls={"permanent_farmland": farm, "landcover": lc})
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 60)
print(r.drop(columns="geometry").T)
print(r.attrs["controls"])
d = check_sites_detail(sites, controls={"permanent_farmland": farm, "landcover": lc})
print(d.T)
for t in r.reasons: print(t)
