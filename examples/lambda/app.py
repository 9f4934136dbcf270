"""An AWS Lambda function in the shape of the data-processing functions acai was made for:
it takes the event's records into a pandas DataFrame, stores them as Parquet with pyarrow,
reads them back and returns a summary."""
import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def handler(event, context):
    frame = pd.DataFrame.from_records(event["records"])
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    back = table.to_pandas()
    sales = back.groupby("city")["sales"].sum().sort_index()
    return {
        "request_id": context.aws_request_id,
        "rows": int(len(back)),
        "columns": table.column_names,
        "parquet_bytes": buffer.getbuffer().nbytes,
        "sales_by_city": {city: int(total) for city, total in sales.items()},
    }
