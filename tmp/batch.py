import geopandas as gpd, tempfile, pandas as pd
from shapely import box
import jixi_geo as jg
from jixi_geo.batch import check_file, read_results
X0, Y0 = 450000.0, 5035000.0
s = gpd.GeoDataFrame({"site_id": ["a", "b", "c"], "activity": "industry"},
                     geometry=[box(X0, Y0, X0+200, Y0+200), box(X0+300, Y0, X0+400, Y0+100), box(X0+600, Y0, X0+700, Y0+100)], crs=4553).to_crs(4490)
farm = gpd.GeoDataFrame({"control_id": ["f"], "name": "", "level": ""}, geometry=[box(X0-300, Y0-300, X0+100, Y0+500)], crs=4553).to_crs(4490)
d = tempfile.mkdtemp()
s.to_file(f"{d}/s.gpkg")
out = check_file(f"{d}/s.gpkg", f"{d}/out.parquet", chunksize=2, controls={"permanent_farmland": farm})
r = read_results(out); print(r[["site_id", "verdict", "farmland_ha", "farmland_verdict"]])
import dask_geopandas as dg
ddf = dg.from_geopandas(s, npartitions=2)
r2 = jg.check_sites(ddf, controls={"permanent_farmland": farm}).compute()
print(r2[["site_id", "verdict", "farmland_ha", "farmland_verdict"]])
