"""WMS and WMTS through MapProxy: per release and audience, a MapProxy configuration generated
from the top-level mapproxy.yaml template and the release (`config`), a MapProxy source that
renders the release's style in-process and answers feature info and legends (`source`,
`featureinfo`, `legend`), the apps kept per release with caches keyed by release id
(`service`), the routes /wms, /wmts, /internal/wms, /internal/wmts (`routes`) and seeding
(`seed`). MapProxy is imported only when the first WMS/WMTS request arrives.
"""
